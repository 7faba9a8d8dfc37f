"""``GET /_local/outbox``: the messages as a page a person can click through (no external assets)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from bookbay_local.messages import OutgoingMessage

_URL = re.compile(r"https?://[^\s<>\"']+")

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f5f7;
color:#1d2430}
header{background:#1d2430;color:#fff;padding:14px 24px}header h1{margin:0;font-size:19px}
header p{margin:4px 0 0;color:#c9cfd8;font-size:13px}header a{color:#9cc3ff}
main{max-width:920px;margin:20px auto;padding:0 16px}
article{background:#fff;border:1px solid #d9dde3;border-radius:8px;margin:0 0 16px;padding:14px 18px}
.meta{display:flex;gap:12px;flex-wrap:wrap;align-items:baseline;font-size:13px;
color:#5b6472}
.badge{font-weight:700;text-transform:uppercase;font-size:11px;padding:2px 8px;
border-radius:10px;color:#fff}
.sms{background:#2f7d32}.email{background:#1f5fbf}
h2{font-size:16px;margin:8px 0}
pre{white-space:pre-wrap;word-break:break-word;font:14px/1.45 ui-monospace,Menlo,monospace;
margin:8px 0;background:#f7f8fa;padding:10px;border-radius:6px}
iframe{width:100%;height:420px;border:1px solid #d9dde3;border-radius:6px;background:#fff}
details summary{cursor:pointer;color:#1f5fbf;font-size:13px}
.empty{color:#5b6472;text-align:center;padding:40px}
"""


def _linkify(text: str) -> str:
    """Escape ``text`` and make its http(s) links clickable."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?)")
        end = match.start() + len(url)
        out.append(escape(text[last : match.start()]))
        out.append(f'<a href="{escape(url)}">{escape(url)}</a>')
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


def _base_target(html: str) -> str:
    """Links in the framed e-mail open outside the frame."""
    return '<base target="_blank">' + html


def _article(message: OutgoingMessage) -> str:
    parts = [
        f'<article id="m-{escape(message.id)}">',
        '<div class="meta">',
        f'<span class="badge {message.channel}">{message.channel}</span>',
        f"<span>to <strong>{escape(message.to)}</strong></span>",
    ]
    if message.sender:
        parts.append(f"<span>from {escape(message.sender)}</span>")
    sent_at = message.sent_at.isoformat(timespec="seconds")
    parts.append(f'<time datetime="{escape(sent_at)}">{escape(sent_at)}</time>')
    parts.append("</div>")
    if message.subject:
        parts.append(f"<h2>{escape(message.subject)}</h2>")
    if message.text:
        parts.append(f"<pre>{_linkify(message.text)}</pre>")
    if message.html:
        # Sandboxed: the e-mail's HTML runs no script; its links open in a new tab.
        frame = (
            '<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" title="HTML part" '
            f'srcdoc="{escape(_base_target(message.html), quote=True)}"></iframe>'
        )
        if message.text:
            parts.append(f"<details><summary>HTML part</summary>{frame}</details>")
        else:
            parts.append(frame)
    if message.attachments:
        parts.append(f'<p class="meta">Attachments: {escape(", ".join(message.attachments))}</p>')
    parts.append("</article>")
    return "".join(parts)


def render_outbox(messages: Sequence[OutgoingMessage]) -> str:
    """The page: newest message first (the JSON at /_local/messages is oldest first)."""
    body = (
        "\n".join(_article(m) for m in reversed(messages))
        or '<p class="empty">Nothing has been sent yet.</p>'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Bookbay local outbox ({len(messages)})</title><style>{_STYLE}</style></head>
<body><header><h1>Bookbay local outbox</h1>
<p>{len(messages)} message(s) that SES and SNS were asked to deliver, newest first.
<a href="/_local/outbox">Refresh</a> &middot; <a href="/_local/messages">JSON</a></p></header>
<main>
{body}
</main></body></html>
"""
