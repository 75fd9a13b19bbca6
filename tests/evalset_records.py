"""One valid manifest record per task, shared by the eval-set tests (each test varies one field)."""

CAPTION = {"id": "c1", "task": "caption", "image": "images/c1.png",
           "reference": {"captions": ["a red ball"], "objects": ["ball"]}}
RECIPE = {"id": "r1", "task": "recipe", "image": "images/c1.png",
          "reference": {"dish": "pancakes", "ingredients": ["flour"], "steps": []}}
DIAG = {"id": "d1", "task": "diagnosis", "image": "images/c1.png",
        "reference": {"crop": "tomato", "disease": "blight", "treatments": ["spray"]}}
POPE = {"id": "p1", "task": "pope", "image": "images/c1.png",
        "reference": {"label": "yes", "object": "ball", "split": "random"}}
