"""An app instrumented by Sentry's Python SDK (Debian's python3-sentry-sdk), run by test/support/sentry.ts.

argv[1] is a JSON plan:
  mode "application": one process session (started at start-up, ended at exit by the SDK's atexit
    integration); outcome "exited", "handled" (an error captured and caught) or "crash" (an
    uncaught exception, reported through the SDK's excepthook).
  mode "request": a WSGI app behind SentryWsgiMiddleware serves `paths` ("/ok", "/handled",
    "/crash"), flushing after every request when `flushEachRequest`, and once at the end.
  mode "store": captures one message event (Python 1.x sends it to /api/<id>/store/).
Prints one JSON line at exit, after the SDK's own shutdown flush: what it did, and every warning
or error the SDK logged (an unexpected HTTP status among them).
"""

import atexit
import json
import logging
import sys
import wsgiref.util

import sentry_sdk
from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware
from sentry_sdk.utils import logger as sdk_logger

plan = json.loads(sys.argv[1])
result = {"mode": plan["mode"], "problems": []}


class CollectProblems(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.WARNING:
            result["problems"].append(record.getMessage())


# Registered before init: atexit runs handlers last-in first-out, so this one runs after the
# SDK's shutdown, which ends the application session and flushes.
atexit.register(lambda: print(json.dumps(result), flush=True))

sentry_sdk.init(
    dsn=plan["dsn"],
    release=plan["release"],
    environment=plan["environment"],
    auto_session_tracking=True,
    # The machine running the suite is busy: give the final flush time.
    shutdown_timeout=60,
    send_client_reports=False,
    # Lets the SDK log what went wrong (to the collector below, not to stderr).
    debug=True,
)
for handler in list(sdk_logger.handlers):
    sdk_logger.removeHandler(handler)
sdk_logger.addHandler(CollectProblems())
if plan.get("user"):
    sentry_sdk.set_user({"id": plan["user"]})


def application():
    sentry_sdk.Hub.current.start_session(session_mode="application")
    if plan["outcome"] == "handled":
        try:
            raise ValueError("handled in the app")
        except ValueError:
            sentry_sdk.capture_exception()
    if plan["outcome"] == "crash":
        raise RuntimeError("unhandled: reaches sys.excepthook")
    # The atexit integration ends the session and flushes.


def wsgi_app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/handled":
        try:
            raise ValueError("handled in a request")
        except ValueError:
            sentry_sdk.capture_exception()
    if path == "/crash":
        raise RuntimeError("unhandled in a request")
    start_response("200 OK", [("content-type", "text/plain")])
    return [b"ok"]


def request():
    app = SentryWsgiMiddleware(wsgi_app)
    served = 0
    for path in plan["paths"]:
        environ = {}
        wsgiref.util.setup_testing_defaults(environ)
        environ["PATH_INFO"] = path
        try:
            body = app(environ, lambda status, headers, exc_info=None: None)
            b"".join(body)
            if hasattr(body, "close"):
                body.close()
        except RuntimeError:
            pass
        served += 1
        if plan.get("flushEachRequest"):
            sentry_sdk.flush()
    sentry_sdk.flush()
    result["requests"] = served


def store():
    event_id = sentry_sdk.capture_message("an error event, sent the way Python 1.x sends it")
    sentry_sdk.flush()
    result["eventId"] = event_id


{"application": application, "request": request, "store": store}[plan["mode"]]()
