"""Project-made COCO-format cases for the CHAIR golden test (tests/test_chair_reference.py).

Each case: (image id, instance categories, human reference captions, generated caption). The expected
values in the golden test were computed by running the reference implementation (LisaAnne/Hallucination
``utils/chair.py`` with ``data/synonyms.txt``) on exactly these annotations, outside the project.
"""

# COCO category ids of the categories used below (ids as in COCO's instances files).
CATEGORIES = {"person": 1, "bicycle": 2, "car": 3, "motorcycle": 4, "airplane": 5, "bus": 6, "train": 7,
              "truck": 8, "traffic light": 10, "fire hydrant": 11, "stop sign": 13, "bench": 15, "bird": 16,
              "cat": 17, "dog": 18, "zebra": 24, "tie": 32, "skis": 35, "snowboard": 36, "sports ball": 37,
              "skateboard": 41, "tennis racket": 43, "bottle": 44, "wine glass": 46, "cup": 47, "knife": 49,
              "cake": 61, "chair": 62, "bed": 65, "dining table": 67, "toilet": 70, "tv": 72, "remote": 75,
              "cell phone": 77, "microwave": 78, "oven": 79, "refrigerator": 82, "teddy bear": 88}

CASES = [
    (1, ["person", "skateboard"], ["A man riding a skateboard.", "A skateboarder on a ramp."],
     "A man, a woman and a boy on a skateboard."),
    (2, ["person", "skateboard"], ["A man riding a skateboard down the street."],
     "A man, a woman and a dog on a skateboard."),
    (3, ["zebra"], ["Two zebras standing in a field."],
     "A baby zebra stands next to two adult zebras in the grass."),
    (4, ["dining table", "cup"], ["A cup of coffee on a wooden table."],
     "A cup on the table next to a desk and a tv."),
    (5, ["tv", "remote"], ["Two tvs on a stand with a remote."],
     "Two tvs and a remote control on a shelf."),
    (6, ["toilet"], ["A white toilet in a small bathroom."],
     "A toilet seat is up in a bathroom next to a sink."),
    (7, ["person", "cake", "knife"], ["A couple cutting a hot dog cake.", "A bride and groom cut their wedding cake."],
     "A bride cuts a hot dog shaped cake with a knife while a dog watches."),
    (8, ["car", "traffic light", "person"], ["People waiting at a stop light."],
     "Cars wait at the traffic light while a fire hydrant and a stop sign stand by the street."),
    (9, ["bus", "person"], ["A red double decker bus on a city street."],
     "A bus and two buses drive past people."),
    (10, ["airplane", "person"], ["A passenger jet on the runway."],
     "A passenger jet parked near train tracks and a man in a tie."),
    (11, ["cat"], ["A cat sleeping on a bed."],
     "A cat sleeps on the bed. The cat is next to the cat's toy and a teddy bear."),
    (12, ["toilet", "person"], ["A toilet in the bathroom."],
     "A man sits on the seat of the toilet."),
    (13, ["person", "cell phone"], ["A man talking on his phone."],
     "A man sits on a seat with his cellphone, an iPhone and two ties."),
    (14, ["person", "sports ball", "tennis racket"], ["A tennis player swings a racket at a ball."],
     "A tennis player hits the sports ball with a tennis racket near a motor bike."),
    (15, ["wine glass", "bottle"], ["Wine glasses and a bottle on a table."],
     "Two wine glasses and a wine glass next to bottles on a dining table with a hot-dog."),
    (16, [], ["A kitchen with a refrigerator and an oven."],
     "A kitchen with a fridge, a stove and a microwave."),
    (17, ["person"], ["A person in a park."],
     "A blurry photo of something."),
    (18, ["person", "skis"], ["A skier on the slope."],
     "A skier holds his skis and a snowboard. The SKIS are red."),
]


def coco_files(cases=CASES):
    """-> (captions json, instances json, generated [{image_id, caption}]) in COCO's formats."""
    images = [{"id": i, "file_name": f"{i:012d}.jpg", "width": 8, "height": 8} for i, *_ in cases]
    captions = {"images": images, "annotations": [
        {"id": 1000 * i + k, "image_id": i, "caption": c} for i, _, refs, _ in cases for k, c in enumerate(refs)]}
    instances = {"images": images,
                 "categories": [{"id": cid, "name": name, "supercategory": "x"} for name, cid in CATEGORIES.items()],
                 "annotations": [{"id": 1000 * i + k, "image_id": i, "category_id": CATEGORIES[name]}
                                 for i, objs, _, _ in cases for k, name in enumerate(objs)]}
    generated = [{"image_id": i, "caption": gen} for i, _, _, gen in cases]
    return captions, instances, generated

# Hand-written captions (written for this test by looking at the images) for the 12 COCO val2017 images of
# ../shared/realdata/coco-val2017-12; some name objects that are not there, as a captioning model might.
REAL_CAPTIONS = {
    139: "A woman stands in a living room with a television, a table and chairs, and a dog on the rug.",
    18575: "A burger and french fries on a plate next to a glass of water and a fork.",
    22892: "A cat sits on a table next to potted plants while a dog looks in through the window.",
    101787: "A jetliner flies through a cloudy blue sky past power lines and a bird.",
    117645: "A snowboarder rides down a snowy slope with skis in the snow.",
    183709: "People wait at a crosswalk by a traffic light while cars and a truck drive past.",
    229358: "A man in a tie takes a picture of himself in the bathroom mirror above a sink with a toothbrush.",
    244592: "Three zebras stand on the rocks in a zoo enclosure next to a baby zebra.",
    255165: "A desk with two monitors, two keyboards, a laptop, a mouse and a cup beside books and a phone.",
    350679: "A bride and groom cut a wedding cake shaped like a hot dog with a knife as guests watch.",
    368212: "A baby sits on a toilet seat brushing his teeth with a toothbrush next to a sink.",
    434204: "A skateboarder rides his skateboard down the sidewalk past a bench and a dog.",
}
