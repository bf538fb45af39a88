"""Chat templates rendered as transformers' ``apply_chat_template`` renders them, within bounds.

``apr qa`` golden_output (GATES.md §3.1.2) asks its questions through the model's own chat
template (``tokenizer_config.json`` ``chat_template``). :func:`render_chat` gives the same text as
``tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)``
(tests compare the two on real templates), with the same rendering semantics:

* jinja2's ``ImmutableSandboxedEnvironment`` with ``trim_blocks`` and ``lstrip_blocks``, the
  ``loopcontrols`` extension and a ``{% generation %}`` block that renders its body (transformers
  uses it only to mark assistant tokens);
* variables ``messages``, ``add_generation_prompt``, ``tools`` and ``documents`` (None), and the
  tokenizer's named special tokens that are set (``bos_token``, ``eos_token``, ...; an unset one
  is undefined, as in transformers);
* globals ``raise_exception`` (a template error with the template's message), ``dict`` and
  ``namespace`` (underscore names refused), and a ``tojson`` filter that does not HTML-escape.

One difference, on purpose: there is no ``strftime_now``, so a template that prints today's date
falls back to its own default (Llama 3.1 prints "26 Jul 2024") and the prompt stays a pure
function of the files.

A chat template is code from whoever published the model. The sandbox refuses attribute access
to internals (``__class__`` ...), and here such an access is an error rather than an empty
string (transformers prints nothing and renders on). On top of it this module bounds the work:
the template's size (:data:`MAX_TEMPLATE_CHARS`), the rendered text (:data:`MAX_RENDER_CHARS`),
the size of any string or list that ``*``, ``+`` or ``**`` would build, and the wall time
(:data:`RENDER_SECONDS`), checked on every line the compiled template executes (a trace hook on
the template's frames only), so a loop of 10¹⁰ empty iterations stops after two seconds. Every
failure is one :class:`ChatTemplateError` line.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from types import FrameType
from typing import Any

from albor_gates.artifacts.tokenizer import NAMED_TOKENS

#: Largest chat template accepted, in characters (real ones are 1–20 k).
MAX_TEMPLATE_CHARS = 65_536
#: Largest rendered conversation, and largest string or list an operator may build.
MAX_RENDER_CHARS = 65_536
#: Wall-clock seconds one rendering may take.
RENDER_SECONDS = 2.0
_TEMPLATE_FILE = "<template>"  # the file name jinja2 gives code compiled from a string
_SENTINEL = "ALBOR-END-OF-TURN-PROBE"


class ChatTemplateError(ValueError):
    """A chat template that cannot be rendered (one line: what went wrong, where)."""


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class _Deadline:
    """The wall-clock budget of one rendering, checked from the trace hook and the operators."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise ChatTemplateError(f"rendering took longer than {self.seconds:g} s")


def _sized(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else 0


@lru_cache(maxsize=1)
def _environment() -> Any:
    """The sandboxed environment, configured as transformers configures its own."""
    import jinja2
    from jinja2 import nodes
    from jinja2.ext import Extension, loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Generation(Extension):
        """``{% generation %}…{% endgeneration %}``: transformers' assistant-mask marker."""

        tags = {"generation"}  # noqa: RUF012 - jinja2 reads the class attribute

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.Scope(body).set_lineno(lineno)

    class Bounded(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "+", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            # a string or list is sized before it is built: "x" * 10**12 never allocates
            if operator == "**" and isinstance(right, (int, float)) and abs(right) > 1024:
                raise ChatTemplateError(f"refused: an exponent of {right} (at most 1024)")
            size = 0
            if operator == "*":
                seq, n = (left, right) if isinstance(right, int) else (right, left)
                size = _sized(seq) * n if isinstance(n, int) else 0
            elif operator == "+":
                size = _sized(left) + _sized(right)
            if size > MAX_RENDER_CHARS:
                raise ChatTemplateError(
                    f"refused: {operator!r} would build {size} items (at most {MAX_RENDER_CHARS})"
                )
            return super().call_binop(context, operator, left, right)

        def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
            # jinja2 yields an undefined that prints as ""; a template that reaches for
            # internals is hostile, and the gate says so instead of rendering around it
            raise jinja2.exceptions.SecurityError(
                f"access to attribute {attribute!r} of a {type(obj).__name__!r} object is unsafe"
            )

    class Namespace(jinja2.utils.Namespace):
        """``namespace(...)`` refusing underscore names (no reach into CPython internals)."""

        def __init__(*args: Any, **kwargs: Any) -> None:
            self, rest = args[0], args[1:]
            attrs = dict(*rest, **kwargs)
            for name in attrs:
                Namespace.refuse(name)
            jinja2.utils.Namespace.__init__(self, attrs)

        def __setitem__(self, name: str, value: Any) -> None:
            Namespace.refuse(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

        @staticmethod
        def refuse(name: Any) -> None:
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError(f"namespace attribute {name!r} refused")

    class TemplateDict:
        """``dict(...)`` and ``dict.fromkeys(...)`` only, never the type itself."""

        def __call__(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
            return dict(*args, **kwargs)

        def fromkeys(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
            return dict.fromkeys(*args, **kwargs)

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    def tojson(
        x: Any,
        ensure_ascii: bool = False,
        indent: int | None = None,
        separators: tuple[str, str] | None = None,
        sort_keys: bool = False,
    ) -> str:
        # jinja2's own tojson HTML-escapes (<, >, &, '): a prompt is not HTML
        return json.dumps(
            x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
        )

    env = Bounded(trim_blocks=True, lstrip_blocks=True, extensions=[Generation, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["dict"] = TemplateDict()
    env.globals["namespace"] = Namespace
    return env


def _traced(deadline: _Deadline) -> Callable[[FrameType, str, Any], Any]:
    """A trace hook that checks ``deadline`` on every line of the compiled template's code."""

    def line(frame: FrameType, event: str, arg: Any) -> Any:
        deadline.check()
        return line

    def call(frame: FrameType, event: str, arg: Any) -> Any:
        return line if frame.f_code.co_filename == _TEMPLATE_FILE else None

    return call


def _explain(e: Exception) -> str:
    """One line on why a rendering failed."""
    import jinja2

    detail = _one_line(str(e))
    if isinstance(e, jinja2.TemplateSyntaxError):
        return f"line {e.lineno}: syntax error: {_one_line(e.message or '')}"
    if isinstance(e, jinja2.exceptions.SecurityError):
        return f"unsafe operation refused by the sandbox: {detail}"
    if isinstance(e, jinja2.TemplateError):  # raise_exception(...), an undefined called ...
        return f"the template raised an error: {detail}"
    if isinstance(e, (RecursionError, MemoryError)):
        return f"rendering ran out of resources ({type(e).__name__})"
    return f"rendering failed: {type(e).__name__}: {detail}"


def render_chat(
    template: str,
    messages: Sequence[Mapping[str, str]],
    *,
    tokens: Mapping[str, str] | None = None,
    add_generation_prompt: bool = True,
) -> str:
    """Render ``messages`` through a chat template, as transformers' apply_chat_template does.

    Args:
        template: the jinja2 source (``tokenizer_config.json`` ``chat_template``).
        messages: ``{"role": ..., "content": ...}`` dicts.
        tokens: named special tokens (see :data:`NAMED_TOKENS`); None values are left undefined.
        add_generation_prompt: end with the assistant's turn header.

    Returns:
        The rendered conversation.

    Raises:
        ChatTemplateError: too large, a syntax error, an unsafe or refused operation, the
            template's own ``raise_exception``, or over the time or size bounds (one line).
    """
    if len(template) > MAX_TEMPLATE_CHARS:
        raise ChatTemplateError(
            f"the template has {len(template)} characters (at most {MAX_TEMPLATE_CHARS})"
        )
    variables: dict[str, Any] = {
        k: str(v) for k, v in (tokens or {}).items() if k in NAMED_TOKENS and v is not None
    }
    variables |= {
        "messages": [dict(m) for m in messages],
        "tools": None,
        "documents": None,
        "add_generation_prompt": add_generation_prompt,
    }
    deadline = _Deadline(RENDER_SECONDS)
    previous = sys.gettrace()
    out: list[str] = []
    size = 0
    sys.settrace(_traced(deadline))
    try:
        for chunk in _environment().from_string(template).generate(**variables):
            size += len(chunk)
            if size > MAX_RENDER_CHARS:
                raise ChatTemplateError(
                    f"the rendered conversation exceeds {MAX_RENDER_CHARS} characters"
                )
            out.append(chunk)
    except ChatTemplateError:
        raise
    except Exception as e:  # jinja2's errors, and a template computing with the wrong types
        raise ChatTemplateError(_explain(e)) from e
    finally:
        sys.settrace(previous)
    return "".join(out)


def end_of_turn(template: str, tokens: Mapping[str, str] | None = None) -> str | None:
    """The marker a template writes after an assistant's message (``<|im_end|>``, ``<|eot_id|>``).

    Found by rendering a two-turn conversation whose assistant message is a sentinel and reading
    the first word after it; a template that writes nothing there, or that refuses the probe,
    has none.

    Args:
        template: the chat template.
        tokens: named special tokens, as for :func:`render_chat`.

    Returns:
        The marker, or None.
    """
    probe = [{"role": "user", "content": "2+2"}, {"role": "assistant", "content": _SENTINEL}]
    try:
        text = render_chat(template, probe, tokens=tokens, add_generation_prompt=False)
    except ChatTemplateError:
        return None
    at = text.rfind(_SENTINEL)
    words = text[at + len(_SENTINEL) :].split() if at >= 0 else []
    return words[0] if words else None
