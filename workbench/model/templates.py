"""MiniGPT-4's prompt templates, verbatim from `minigpt4/conversation/conversation.py`.

The image is a plain-text placeholder: ``<Img><ImageHere></Img>``. The model splits the prompt on
``<ImageHere>`` and splices the projected image embeddings into that gap (see ``MiniGPT4.embed_context``).
"""

from __future__ import annotations

from dataclasses import dataclass

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

    def chat_prompt(self, question: str) -> str:
        """The inference prompt, exactly as MiniGPT-4's ``Chat`` builds it for one image and one question.

        ``Conversation.get_prompt`` (SINGLE style) is ``system + sep + role + message + sep + role``; ``Chat.ask``
        appends the question to the image message with one space.
        """
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
}


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise WorkbenchError(
            f"unknown prompt template {name!r}; known templates: {', '.join(sorted(TEMPLATES))}"
        ) from None
