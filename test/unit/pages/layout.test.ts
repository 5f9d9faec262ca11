import { describe, expect, it } from 'vitest';
import { html, raw, renderPage } from '../../../lambdas/pages/layout.ts';
import { openApiDocument } from '../../../lambdas/openapi/document.ts';

describe('the html template', () => {
  it('escapes every interpolation, nested arrays included, and passes raw() and nested html through', () => {
    const hostile = `"><script>alert('x')</script>&`;
    const out = html`<p title="${hostile}">${hostile}${[hostile, html`<b>${hostile}</b>`]}${raw('<i>ok</i>')}</p>`.value;
    expect(out).not.toContain('<script>');
    expect(out).toContain('&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;');
    expect(out).toContain('<b>&quot;&gt;&lt;script&gt;');
    expect(out).toContain('<i>ok</i>');
  });

  it('leaves out null, undefined and false', () => {
    expect(html`a${null}b${undefined}c${false}d${0}`.value).toBe('abcd0');
  });
});

describe('renderPage', () => {
  it('makes a complete, labelled document with relative asset links and no inline code', () => {
    const doc = renderPage({ title: 'T <x>', body: html`<h1>Heading</h1>`, scripts: ['a.js'], assetBase: '../assets/', apiBase: '../', data: { page: 'login' } });
    expect(doc).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(doc).toContain('<title>T &lt;x&gt;</title>');
    expect(doc).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(doc).toContain('<link rel="stylesheet" href="../assets/site.css">');
    expect(doc).toContain('<script type="module" src="../assets/a.js"></script>');
    expect(doc).toContain('<body data-api-base="../" data-page="login">');
    expect(doc).toContain('<a class="skip-link" href="#main">');
    expect(doc).toContain('<main id="main" tabindex="-1">\n<h1>Heading</h1>');
    expect(doc).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|\sstyle=/);
  });
});

describe('the OpenAPI document', () => {
  it('documents the pages as text/html and the browser files as scripts and style sheets', () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };
    expect(Object.keys(doc.paths['/portal/{page}']!.get!.responses['200']!.content!)).toEqual(['text/html']);
    expect(Object.keys(doc.paths['/console']!.get!.responses['200']!.content!)).toEqual(['text/html']);
    expect(Object.keys(doc.paths['/assets/{file}']!.get!.responses['200']!.content!)).toEqual(['text/javascript', 'text/css']);
    expect(Object.keys(doc.paths['/health']!.get!.responses['200']!.content!)).toEqual(['application/json']);
  });
});
