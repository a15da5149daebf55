"""Email intake: residents write to the municipality's mailbox and get a request.

``parser`` turns raw RFC 822 bytes into a ``ParsedEmail`` (pure, no database);
``intake`` records every message as an ``InboundEmail`` and creates a request
through ``tickets.intake.submit`` or adds a reply to an existing one;
``imap`` is the mailbox poller; ``cli`` holds ``flask channels email …``.
"""
