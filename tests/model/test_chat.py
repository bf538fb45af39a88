"""Chat templates: the same text as transformers' apply_chat_template, and hostile ones refused."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from albor_gates.artifacts.tokenizer import read_tokenizer_config
from albor_gates.model import chat
from albor_gates.model.chat import ChatTemplateError, end_of_turn, render_chat

transformers = pytest.importorskip("transformers", reason="transformers is not installed")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "albor-tiny-v1"

# Qwen2.5-Instruct's template (its non-tool branch): whitespace control, a default system prompt,
# `tools` tested for truthiness, `message.tool_calls` read off a dict
QWEN25 = """{%- if tools %}
    {{- '<|im_start|>system\\n' + 'tools: ' + tools | tojson + '<|im_end|>\\n' }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""
# Meta-Llama-3-8B-Instruct's template: bos_token, `| trim`, loop.index0
LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim"
    " + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
    "{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)
# Mistral-7B-Instruct-v0.1's template: raise_exception on a bad conversation, eos_token
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
    "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
    "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}"
    "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant "
    "roles are supported!') }}{% endif %}{% endfor %}"
)
# trim_blocks / lstrip_blocks do the work here (no `-`), with a namespace and loop controls
LAYOUT = """{% set ns = namespace(n=0) %}
{% for m in messages %}
    {% if m.role == 'system' %}
        {% continue %}
    {% endif %}
    {% set ns.n = ns.n + 1 %}
<turn {{ ns.n }} {{ m.role }}>{{ m.content }}</turn>
{% endfor %}
{% if add_generation_prompt %}
<turn {{ ns.n + 1 }} assistant>
{% endif %}
"""
TOKENS = {
    "llama3": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "mistral": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
}
CHATS = [
    [{"role": "user", "content": "What is 2+2?"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}],
    [
        {"role": "user", "content": "  Hi  "},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "2+2?\n"},
    ],
]


def _hf(template: str, tokens: dict[str, str]) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(EXAMPLE / "tokenizer.json"))
    hf = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, **tokens)
    hf.chat_template = template
    return hf


def _theirs(hf: Any, messages: list[dict[str, str]], gen: bool = True) -> str:
    return str(hf.apply_chat_template(messages, add_generation_prompt=gen, tokenize=False))


def test_the_bundled_template_renders_as_transformers_renders_it() -> None:
    cfg = read_tokenizer_config(EXAMPLE / "tokenizer_config.json")
    assert cfg.chat_template is not None
    hf = transformers.AutoTokenizer.from_pretrained(str(EXAMPLE))
    for messages in CHATS:
        for gen in (True, False):
            ours = render_chat(
                cfg.chat_template, messages, tokens=cfg.named_tokens, add_generation_prompt=gen
            )
            assert ours == _theirs(hf, messages, gen)
    assert end_of_turn(cfg.chat_template, cfg.named_tokens) == "<|im_end|>"


@pytest.mark.parametrize(
    ("name", "template", "marker"),
    [
        ("qwen2.5", QWEN25, "<|im_end|>"),
        ("llama3", LLAMA3, "<|eot_id|>"),
        ("layout", LAYOUT, "</turn>"),
    ],
)
def test_real_templates_render_as_transformers_renders_them(
    name: str, template: str, marker: str
) -> None:
    tokens = TOKENS.get(name, {"eos_token": "<|endoftext|>"})
    hf = _hf(template, tokens)
    for messages in CHATS:
        for gen in (True, False):
            ours = render_chat(template, messages, tokens=tokens, add_generation_prompt=gen)
            assert ours == _theirs(hf, messages, gen), name
    assert end_of_turn(template, tokens) == marker


def test_raise_exception_is_the_templates_own_message() -> None:
    tokens = TOKENS["mistral"]
    hf = _hf(MISTRAL, tokens)
    ok = [{"role": "user", "content": "Hello"}]
    assert render_chat(MISTRAL, ok, tokens=tokens) == _theirs(hf, ok) == "<s>[INST] Hello [/INST]"
    assert end_of_turn(MISTRAL, tokens) == "</s>"
    bad = CHATS[1]  # a system message: this template refuses it
    with pytest.raises(Exception, match="Conversation roles must alternate"):
        _theirs(hf, bad)
    with pytest.raises(ChatTemplateError) as err:
        render_chat(MISTRAL, bad, tokens=tokens)
    assert str(err.value) == (
        "the template raised an error: Conversation roles must alternate "
        "user/assistant/user/assistant/..."
    )


@settings(max_examples=40, deadline=None)
@given(
    system=st.one_of(st.none(), st.text(max_size=30)),
    user=st.text(min_size=1, max_size=60),
)
def test_any_message_text_renders_as_transformers_renders_it(system: str | None, user: str) -> None:
    messages = ([{"role": "system", "content": system}] if system is not None else []) + [
        {"role": "user", "content": user}
    ]
    tokens = TOKENS["llama3"]
    for template in (QWEN25, LLAMA3):
        assert render_chat(template, messages, tokens=tokens) == _theirs(_HF[template], messages)


_HF = {t: _hf(t, TOKENS["llama3"]) for t in (QWEN25, LLAMA3)}


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "{{ messages.__class__.__mro__ }}",
            "unsafe operation refused by the sandbox: access to attribute '__class__' of a "
            "'list' object is unsafe",
        ),
        (
            "{{ cycler.__init__.__globals__ }}",
            "unsafe operation refused by the sandbox: access to attribute '__init__' of a "
            "'type' object is unsafe",
        ),
        (
            "{% set ns = namespace() %}{% set ns._x = 1 %}",
            "unsafe operation refused by the sandbox: namespace attribute '_x' refused",
        ),
        ("{{ 'ab' * 10**9 }}", "refused: '*' would build 2000000000 items (at most 65536)"),
        ("{{ 2 ** 100000 }}", "refused: an exponent of 100000 (at most 1024)"),
        (
            "{% for i in range(70000) %}x{% endfor %}",
            "the rendered conversation exceeds 65536 characters",
        ),
        (
            "{% for m in messages %}",
            "line 1: syntax error: Unexpected end of template. "
            "Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block "
            "that needs to be closed is 'for'.",
        ),
        (
            "{{ messages[0].content + 1 }}",
            'rendering failed: TypeError: can only concatenate str (not "int") to str',
        ),
        (
            "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
            "rendering ran out of resources (RecursionError)",
        ),
    ],
)
def test_hostile_or_broken_templates_are_one_line_errors(template: str, message: str) -> None:
    with pytest.raises(ChatTemplateError) as err:
        render_chat(template, CHATS[0])
    assert str(err.value) == message


def test_the_template_size_is_bounded() -> None:
    with pytest.raises(ChatTemplateError) as err:
        render_chat("x" * (chat.MAX_TEMPLATE_CHARS + 1), CHATS[0])
    assert str(err.value) == "the template has 65537 characters (at most 65536)"


def test_a_loop_without_output_or_calls_is_stopped_by_the_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chat, "RENDER_SECONDS", 0.3)
    spin = (
        "{% set r = range(3000)|list %}{% for a in r %}{% for b in r %}{% for c in r %}"
        "{% endfor %}{% endfor %}{% endfor %}"
    )
    start = time.monotonic()
    with pytest.raises(ChatTemplateError) as err:
        render_chat(spin, CHATS[0])
    assert str(err.value) == "rendering took longer than 0.3 s"
    assert time.monotonic() - start < 5
    assert render_chat("{{ messages[0].content }}", CHATS[0]) == "What is 2+2?"  # trace restored


def test_a_template_without_an_end_of_turn_has_none() -> None:
    assert end_of_turn("{{ messages[-1]['content'] }}") is None
    assert end_of_turn("{{ raise_exception('no') }}") is None
