"""ipywidgets front end of ``workbench.explore.Explorer`` for JupyterLab (notebook 01_explore)."""

from __future__ import annotations

import io

import ipywidgets as w
from IPython.display import HTML, display
from PIL import Image

from workbench.explore import Explorer, side_by_side_html


def explorer_widget(explorer: Explorer, max_new_tokens: int = 160):
    items = explorer.eval_set.items
    pick = w.Dropdown(options=[(f"{it.id} ({it.task})", i) for i, it in enumerate(items)], description="item")
    upload = w.FileUpload(accept="image/*", multiple=False, description="or upload")
    prompt = w.Textarea(value=items[0].prompt if items else "", description="prompt",
                        layout=w.Layout(width="60%"))
    models = w.SelectMultiple(options=explorer.model_names, value=tuple(explorer.model_names),
                              description="checkpoints")
    sample = w.Checkbox(value=False, description="sample (MiniGPT-4 chat defaults)")
    button = w.Button(description="Generate", button_style="primary")
    out = w.Output()

    def on_pick(change):
        prompt.value = items[change["new"]].prompt

    def on_click(_):
        with out:
            out.clear_output()
            if upload.value:
                data = upload.value[0]["content"]
                image = Image.open(io.BytesIO(bytes(data))).convert("RGB")
                answers = explorer.answer(image, prompt.value, list(models.value), max_new_tokens, sample.value)
                display(HTML(side_by_side_html(image, prompt.value, answers)))
            else:
                item = items[pick.value]
                answers = explorer.answer(item.image_path, prompt.value, list(models.value), max_new_tokens,
                                          sample.value)
                explorer.score(item, answers)
                display(HTML(side_by_side_html(Image.open(item.image_path), prompt.value, answers, item.reference)))

    pick.observe(on_pick, names="value")
    button.on_click(on_click)
    return w.VBox([w.HBox([pick, upload]), prompt, w.HBox([models, sample, button]), out])
