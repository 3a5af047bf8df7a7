#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""serve.py - the demo shop's static server, with clean URLs.

python3 -m http.server would serve /products as a redirect to /products/ and
/cart as a 404 (the file is cart.html), so the pages' addresses would not be
the paths the funnel and the load generator use. This is the same server
(http.server from the standard library) with one change: a path without an
extension is served from PATH.html, and /designer/... (the single-page
section) from designer.html. Loopback only; one line per request on stderr.

usage: serve.py [--bind 127.0.0.1] [--directory DIR] PORT
"""
import argparse
import functools
import http.server
import os
import posixpath
import signal
import sys
import urllib.parse


class Handler(http.server.SimpleHTTPRequestHandler):
    def translate_path(self, path):
        fs = super().translate_path(path)
        url = posixpath.normpath(urllib.parse.unquote(urllib.parse.urlsplit(path).path))
        if url == '/designer' or url.startswith('/designer/'):
            return os.path.join(self.directory, 'designer.html')
        if url != '/' and not os.path.isfile(fs) and os.path.isfile(fs + '.html'):
            return fs + '.html'
        return fs

    def list_directory(self, path):
        # A shop has no folder listings.
        self.send_error(404, 'File not found')
        return None

    def end_headers(self):
        # The pages change while someone edits them; never serve a stale one.
        self.send_header('Cache-Control', 'no-store')
        super().end_headers()

    def log_message(self, fmt, *args):
        # No client address in the log: method, path and status only.
        sys.stderr.write('%s\n' % (fmt % args))


def _stop(signum, frame):
    raise KeyboardInterrupt


def main():
    ap = argparse.ArgumentParser(description='serve the haze demo shop')
    ap.add_argument('--bind', default='127.0.0.1')
    ap.add_argument('--directory', default=os.path.join(os.path.dirname(__file__), 'site'))
    ap.add_argument('port', type=int)
    a = ap.parse_args()
    handler = functools.partial(Handler, directory=a.directory)
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    server = http.server.ThreadingHTTPServer((a.bind, a.port), handler)
    sys.stderr.write('serving %s on http://%s:%d/\n' % (a.directory, a.bind, a.port))
    sys.stderr.flush()
    # SIGTERM (make run's Ctrl-C, the e2e test's trap) stops it cleanly.
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == '__main__':
    main()
