import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";

// Placeholder until the handler is written.
export const handler = async (_event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => ({ statusCode: 501, body: "" });
