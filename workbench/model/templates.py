"""MiniGPT-4's prompt templates, verbatim from `minigpt4/conversation/conversation.py`.

The image is a plain-text placeholder: ``<Img><ImageHere></Img>``. The model splits the prompt on
``<ImageHere>`` and splices the projected image embeddings into that gap (see ``MiniGPT4.embed_context``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from workbench.errors import WorkbenchError

IMAGE_PLACEHOLDER = "<ImageHere>"
IMAGE_SLOT = f"<Img>{IMAGE_PLACEHOLDER}</Img>"

SYSTEM_TEXT = (
    "Give the following image: <Img>ImageContent</Img>. "
    "You will be able to see the image once I provide it to you. Please answer my questions."
)


@dataclass(frozen=True)
class Template:
    """One conversation format. ``sep`` closes each turn; ``end_sym`` is what the model emits when done."""

    name: str
    system: str
    user_role: str
    assistant_role: str
    sep: str
    end_sym: str
    train_user_role: str
    train_assistant_role: str
    add_bos: bool = True  # MiniGPT-4 puts the tokenizer's BOS before the first prompt segment
    task: str | None = None  # MiniGPT-v2's task word put before each question (``with_task``); see ``for_task``

    def chat_prompt(self, question: str) -> str:
        """The inference prompt, exactly as MiniGPT-4's ``Chat`` builds it for one image and one question.

        ``Conversation.get_prompt`` (SINGLE style) is ``system + sep + role + message + sep + role``; ``Chat.ask``
        appends the question to the image message with one space. With ``task`` set, the question is
        ``[task] question`` unless it starts with a task word of its own (MiniGPT-v2's ``prepare_texts``).
        """
        question = with_task(question, self.task)
        return (
            f"{self.system}{self.sep}{self.user_role}{IMAGE_SLOT} {question}"
            f"{self.sep}{self.assistant_role}"
        )

    def train_prompt(self, question: str) -> str:
        """The stage-2 training prompt (``prompt_template`` in the train configs), without system text."""
        return f"{self.train_user_role}{IMAGE_SLOT} {question}{self.train_assistant_role}"

    def cut(self, text: str) -> str:
        """Cut generated text at the first end symbol, as MiniGPT-4's ``Chat.answer`` splits on ``###``.

        Unlike ``Chat.answer`` it does not also strip a leaked ``Assistant:``: template leakage is a failure the
        scorers must see.
        """
        return text.split(self.end_sym, 1)[0].strip()


TEMPLATES: dict[str, Template] = {
    # CONV_VISION_Vicuna0: roles "Human: " / "Assistant: ", sep "###"; train configs: '###Human: {} ###Assistant: '
    "vicuna0": Template(
        name="vicuna0",
        system=SYSTEM_TEXT,
        user_role="Human: ",
        assistant_role="Assistant: ",
        sep="###",
        end_sym="###",
        train_user_role="###Human: ",
        train_assistant_role=" ###Assistant: ",
    ),
    # CONV_VISION_LLama2: roles "<s>[INST] " / " [/INST] ", sep ""; the literal "<s>" is MiniGPT-4's (a second BOS).
    "llama2": Template(
        name="llama2",
        system=SYSTEM_TEXT,
        user_role="<s>[INST] ",
        assistant_role=" [/INST] ",
        sep="",
        end_sym="</s>",
        train_user_role="[INST] ",
        train_assistant_role=" [/INST] ",
    ),
    # CONV_VISION_minigptv2: no system text, roles "<s>[INST] " / " [/INST]", sep ""; the question starts with a
    # task word ("[vqa] ...", see MINIGPTV2_TASKS); the model ends with </s> (Chat stops on id 2).
    "minigptv2": Template(
        name="minigptv2",
        system="",
        user_role="<s>[INST] ",
        assistant_role=" [/INST]",
        sep="",
        end_sym="</s>",
        train_user_role="[INST] ",
        train_assistant_role=" [/INST] ",
    ),
}

# MiniGPT-v2's task identifiers (arXiv:2310.09478 Tab. 1; eval_scripts/eval_ref.py and eval_vqa.py prompts)
MINIGPTV2_TASKS = ("vqa", "caption", "grounding", "refer", "detection", "identify")


def with_task(question: str, task: str | None) -> str:
    """``[task] question`` for MiniGPT-v2; a question that already starts with a task word is left as it is.

    Raises WorkbenchError for an unknown task word.
    """
    if task is None or question.lstrip().startswith("["):
        return question
    if task not in MINIGPTV2_TASKS:
        raise WorkbenchError(f"unknown MiniGPT-v2 task {task!r}; known tasks: {', '.join(MINIGPTV2_TASKS)}")
    return f"[{task}] {question}"


@dataclass(frozen=True)
class ChatTemplate:
    """``template: chat``: the LLM's own chat template (``tokenizer.chat_template``, Jinja, as transformers renders it).

    The user turn holds ``<Img><ImageHere></Img> {question}``, MiniGPT-4's image message; no system message is
    passed, so the template's own default (if any) applies. ``end_sym`` is the template's end-of-turn: the text
    the template writes after an assistant message (``<|im_end|>`` for ChatML, ``<|eot_id|>`` for Llama-3),
    or the tokenizer's EOS when it writes nothing. The rendered text already holds whatever BOS the template
    wants, so no BOS is added in front (``add_bos`` False), as ``apply_chat_template(tokenize=True)`` does.
    """

    tokenizer: object = field(compare=False, repr=False)
    end_sym: str
    name: str = "chat"
    add_bos: bool = False

    def _render(self, question: str) -> str:
        turn = [{"role": "user", "content": f"{IMAGE_SLOT} {question}"}]
        return self.tokenizer.apply_chat_template(turn, tokenize=False, add_generation_prompt=True)

    def chat_prompt(self, question: str) -> str:
        """The inference prompt: one user turn plus the template's generation prompt (assistant header)."""
        return self._render(question)

    def train_prompt(self, question: str) -> str:
        """Training uses the same rendering: the answer follows the assistant header, then ``end_sym``."""
        return self._render(question)

    def cut(self, text: str) -> str:
        return text.split(self.end_sym, 1)[0].strip()


def chat_template(tokenizer, source: str = "the LLM") -> ChatTemplate:
    """The ``chat`` template of this tokenizer; WorkbenchError if it has none or its turns cannot be found."""
    if not getattr(tokenizer, "chat_template", None):
        raise WorkbenchError(
            f"{source}: the tokenizer has no chat template (tokenizer_config.json / chat_template.jinja); "
            "use template: vicuna0 or llama2, or an instruction-tuned LLM's tokenizer"
        )
    marker = "WORKBENCH-ANSWER-MARK"
    turns = [{"role": "user", "content": "question"}, {"role": "assistant", "content": marker}]
    text = tokenizer.apply_chat_template(turns, tokenize=False)
    if marker not in text:
        raise WorkbenchError(f"{source}: the chat template drops the assistant's message; cannot find its end of turn")
    end = text.split(marker, 1)[1].strip() or (tokenizer.eos_token or "")
    if not end:
        raise WorkbenchError(f"{source}: the chat template writes nothing after an answer and the tokenizer has no EOS")
    return ChatTemplate(tokenizer=tokenizer, end_sym=end)


def for_task(template, task: str | None, model_name: str = "this model"):
    """``template`` with MiniGPT-v2's task word ``task`` set (``workbench generate --task``); None: unchanged.

    Raises WorkbenchError for an unknown task word or a template other than minigptv2 (task words mean nothing
    to MiniGPT-4 v1 or another chat LLM).
    """
    if task is None:
        return template
    if task not in MINIGPTV2_TASKS:
        raise WorkbenchError(f"unknown MiniGPT-v2 task {task!r}; known tasks: {', '.join(MINIGPTV2_TASKS)}")
    if getattr(template, "name", None) != "minigptv2":
        raise WorkbenchError(f"--task {task}: task words are MiniGPT-v2's, but {model_name} uses template "
                             f"{getattr(template, 'name', None)!r}; drop --task or use a card with template: minigptv2")
    return replace(template, task=task)


TEMPLATE_NAMES = (*TEMPLATES, "chat")


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise WorkbenchError(
            f"unknown prompt template {name!r}; known templates: {', '.join(sorted(TEMPLATES))}"
        ) from None
