/**
 * Invitation links from aws-ses-v2-local's store. GET /store?since=<epoch s> returns the emails
 * of that second on; polling a sliding window (and skipping message ids already seen) keeps each
 * answer small however many emails the run has sent.
 */

interface StoredEmail {
  messageId: string;
  destination: { to: string[] };
  body: { text?: string };
  /** Epoch seconds. */
  at: number;
}

export interface InvitationEmail {
  to: string;
  token: string;
}

const registerLink = /\/portal\/register#token=([A-Za-z0-9_-]+)/;

export class InvitationMailbox {
  private readonly seen = new Set<string>();
  private sinceSeconds = 0;

  constructor(private readonly mailboxUrl: string) {}

  /** Invitation emails not returned before, oldest first. */
  async poll(): Promise<InvitationEmail[]> {
    const polledAt = Math.floor(Date.now() / 1000);
    const res = await fetch(new URL(`/store?since=${this.sinceSeconds}`, this.mailboxUrl));
    if (!res.ok) throw new Error(`mailbox answered ${res.status}`);
    const { emails } = (await res.json()) as { emails: StoredEmail[] };
    // A little overlap: an email stamped in the second of this poll may land after it.
    this.sinceSeconds = polledAt - 2;
    const found: InvitationEmail[] = [];
    for (const email of emails) {
      if (this.seen.has(email.messageId)) continue;
      this.seen.add(email.messageId);
      const token = registerLink.exec(email.body.text ?? '')?.[1];
      const to = email.destination.to[0];
      if (token && to) found.push({ to, token });
    }
    return found;
  }
}
