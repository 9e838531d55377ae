#!/usr/bin/python3
"""An SMTP server for latchkey's end-to-end tests (driven by tests/e2e/mail-lib.mjs).

Run it with Debian's /usr/bin/python3, which has python3-aiosmtpd (1.4.3):

    /usr/bin/python3 tests/e2e/smtp_sink.py --port 0 --dir /tmp/mail \
        [--starttls CERT KEY] [--auth USER:PASSWORD] [--reject-rcpt SUBSTRING] [--exit-on-eof]

It listens on 127.0.0.1 only and stores every accepted message as DIR/NNNN.eml (the exact
bytes of DATA after dot-unstuffing, CRLF line endings as received), numbered in arrival
order and continuing after the files already in DIR, next to DIR/NNNN.json with the
envelope: {"mailFrom", "rcptTos", "peer": [host, port], "login" (or null), "tls"}.
Both files are written under a temporary name and renamed, the .json first, so a reader
that sees NNNN.eml also finds its NNNN.json.

Once listening it prints one line "READY <port>" to stdout. SIGTERM (or SIGINT, or with
--exit-on-eof the end of stdin, i.e. the test runner going away) closes it with status 0.
"""
import argparse
import asyncio
import json
import logging
import os
import re
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    """aiosmtpd handler: refuses some recipients, writes each message to the folder."""

    def __init__(self, folder, reject_rcpt):
        self.folder = folder
        self.reject_rcpt = reject_rcpt
        numbers = [int(m.group(1)) for m in map(re.compile(r'^(\d+)\.eml$').match, os.listdir(folder)) if m]
        self.last = max(numbers, default=0)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt and self.reject_rcpt in address:
            return '550 5.1.1 <%s>: Recipient address rejected (test sink)' % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        self.last += 1
        name = '%04d' % self.last
        login = session.auth_data.login.decode('utf-8', 'replace') if session.authenticated else None
        meta = {'mailFrom': envelope.mail_from, 'rcptTos': envelope.rcpt_tos,
                'peer': list(session.peer), 'login': login, 'tls': session.ssl is not None}
        self.write(name + '.json', json.dumps(meta, indent=1).encode() + b'\n')
        # original_content: the bytes as received (decode_data is off, nothing rewritten)
        self.write(name + '.eml', envelope.original_content)
        return '250 2.0.0 OK: queued as ' + name

    def write(self, name, data):
        tmp = os.path.join(self.folder, '.' + name + '.tmp')
        with open(tmp, 'wb') as f:
            f.write(data)
        os.replace(tmp, os.path.join(self.folder, name))


def parse_args():
    p = argparse.ArgumentParser(description='SMTP sink for end-to-end tests (127.0.0.1 only)')
    p.add_argument('--port', type=int, default=0, help='0 picks a free port')
    p.add_argument('--dir', required=True, help='folder for NNNN.eml and NNNN.json')
    p.add_argument('--starttls', nargs=2, metavar=('CERT', 'KEY'), help='offer and require STARTTLS')
    p.add_argument('--auth', metavar='USER:PASSWORD', help='require AUTH PLAIN/LOGIN with these credentials')
    p.add_argument('--reject-rcpt', metavar='SUBSTRING', help='answer 550 to RCPT TO containing it')
    p.add_argument('--exit-on-eof', action='store_true', help='exit when stdin reaches its end')
    return p.parse_args()


async def main():
    args = parse_args()
    # aiosmtpd logs warnings per connection for what is intended here (AUTH without TLS,
    # its own deprecated Session.login_data): only errors reach stderr
    logging.getLogger('mail.log').setLevel(logging.ERROR)
    loop = asyncio.get_running_loop()
    os.makedirs(args.dir, exist_ok=True)
    handler = Sink(args.dir, args.reject_rcpt)

    tls = None
    if args.starttls:
        # Purpose.CLIENT_AUTH = a server-side context; it asks for no client certificate
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(*args.starttls)

    options = {}
    if args.auth:
        user, _, password = args.auth.partition(':')
        expected = LoginPassword(user.encode(), password.encode())

        # called by aiosmtpd's built-in PLAIN and LOGIN mechanisms; a failure gives
        # "535 5.7.8 Authentication credentials invalid"
        def authenticator(server, session, envelope, mechanism, auth_data):
            return AuthResult(success=auth_data == expected, handled=False, auth_data=auth_data)

        options = {'authenticator': authenticator, 'auth_required': True,
                   # without TLS, AUTH must work on the plain connection (aiosmtpd
                   # otherwise neither advertises it nor accepts it: 538)
                   'auth_require_tls': tls is not None}
        # aiosmtpd warns (UserWarning) about auth_required without auth_require_tls: wanted here
        warnings.filterwarnings('ignore', message='Requiring AUTH while not requiring TLS')

    def factory():
        # hostname given, or aiosmtpd asks socket.getfqdn() (a DNS lookup) per connection
        return SMTP(handler, hostname='localhost', ident='latchkey test sink',
                    tls_context=tls, require_starttls=tls is not None, **options)

    server = await loop.create_server(factory, host='127.0.0.1', port=args.port)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.exit_on_eof:
        def on_stdin():
            if not os.read(0, 4096):
                loop.remove_reader(0)
                stop.set()
        loop.add_reader(0, on_stdin)

    print('READY %d' % server.sockets[0].getsockname()[1], flush=True)
    await stop.wait()
    # stop listening; open client connections are dropped when the loop ends (not waited
    # for: server.wait_closed() waits for them on newer Pythons)
    server.close()


if __name__ == '__main__':
    asyncio.run(main())
    sys.exit(0)
