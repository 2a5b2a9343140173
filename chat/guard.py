"""One line, never a traceback, for a request the page would not send.

The page's own events (ask, load, upload, …) are reachable by any script that posts to Gradio's queue with
their index. Sent values of the wrong shape used to end in `{"error": null}` for the client and a multi-line
traceback in the log. Here Gradio's preprocessing of an event's inputs turns such a request into one clear
message and one log line naming the event and the exception; peelqa's own errors keep their text and fix; any
other failure inside a handler (a bug: the page's values never cause one) is logged with its traceback and the
client told to look there.
"""

from __future__ import annotations

import functools
import logging

import gradio as gr

from indexer.errors import PeelqaError
from indexer.limits import LIMITS

log = logging.getLogger("peelqa")

MALFORMED = "this request's values are not what the page sends; reload the page and try again"
FAILED = "peelqa could not handle this request; the server log says why"


def refuse(event: str, exc: BaseException, inputs: bool = True) -> gr.Error:
    """A request that could not be handled: one log line (the event, the exception) and one message back.
    `inputs`: it failed on what was sent (Gradio's checks of the values); otherwise inside peelqa's handler,
    which the page's own values never cause: logged as an error with its traceback, to be fixed."""
    if isinstance(exc, PeelqaError):
        log.warning("%s: %s: %s", event, type(exc).__name__, exc)
        return gr.Error(str(exc), print_exception=False)
    if isinstance(exc, gr.Error):
        log.warning("%s: refused: %s", event, _line(exc.message))
        return gr.Error(_line(exc.message), print_exception=False)
    if not inputs:
        log.error("%s failed: %s: %s", event, type(exc).__name__, _line(exc), exc_info=exc)
        return gr.Error(FAILED, print_exception=False)
    log.warning("%s: malformed request: %s: %s", event, type(exc).__name__, _line(exc))
    return gr.Error(MALFORMED, print_exception=False)


def _line(message) -> str:
    return " ".join(str(message).split())[:300]


def _wrap(fn, event: str):
    @functools.wraps(fn)  # Gradio reads the signature (gr.Request, gr.SelectData, gr.Progress) through it
    def guarded(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error as exc:
            if not exc.print_exception:  # already a message, already logged (app.user_error)
                raise
            raise refuse(event, exc) from None
        except Exception as exc:
            raise refuse(event, exc, inputs=False) from None

    return guarded


def _trim(value, limit: int):
    """The latest `limit` messages of a conversation: older ones add nothing to an answer but time."""
    return value[-limit:] if isinstance(value, list) and len(value) > limit else value


def guard(demo: gr.Blocks) -> gr.Blocks:
    """Give every event of `demo` one-line errors; call once the events are all registered."""
    for block_fn in demo.fns.values():
        if block_fn.fn is not None and not getattr(block_fn.fn, "__wrapped__", None):
            block_fn.fn = _wrap(block_fn.fn, block_fn.name or "event")
    preprocess = demo.preprocess_data

    async def preprocess_data(block_fn, inputs, state, explicit_call=False):
        inputs = [_trim(v, LIMITS.chat_messages) if isinstance(b, gr.Chatbot) else v
                  for v, b in zip(inputs, block_fn.inputs, strict=False)] + list(inputs[len(block_fn.inputs):])
        try:
            return await preprocess(block_fn, inputs, state, explicit_call)
        except Exception as exc:
            raise refuse(block_fn.name or "event", exc) from None

    demo.preprocess_data = preprocess_data
    return demo
