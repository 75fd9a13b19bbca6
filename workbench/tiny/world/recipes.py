"""The dish catalog: each dish's name, container, visible parts (how each ingredient is drawn) and recipe.

A part is ``(ingredient, look, colour, draw, params)``: ``look`` is how the part is described when seen
(descriptions name only what is visible), ``draw`` is one of the primitives of ``dishes.py``. The recipe
(ingredients + steps) is world knowledge: it appears in the text corpus, never in image-description pairs.
Ids are list positions (labels), so only append.
"""

from __future__ import annotations

from dataclasses import dataclass

FOOD_COLOURS: dict[str, tuple[int, int, int]] = {
    "pasta": (238, 204, 92), "sauce": (196, 38, 28), "beef": (104, 58, 34), "herb": (36, 140, 44),
    "crust": (214, 162, 88), "mozzarella": (252, 246, 228), "pepperoni": (150, 24, 36), "cheese": (252, 206, 60),
    "rice": (246, 244, 236), "pea": (104, 190, 64), "carrot": (246, 128, 28), "yolk": (252, 200, 30),
    "cream": (250, 249, 242), "pumpkin": (236, 134, 36), "greensoup": (120, 168, 52), "crouton": (198, 150, 76),
    "lettuce": (92, 186, 72), "tomato": (226, 48, 40), "cucumber": (176, 222, 126), "strawberry": (208, 26, 56),
    "banana": (246, 232, 156), "blueberry": (58, 54, 150), "kiwi": (128, 190, 48), "salmon": (250, 128, 86),
    "nori": (28, 40, 30), "pancake": (206, 150, 78), "syrup": (120, 62, 18), "bacon": (176, 64, 52),
    "broth": (170, 110, 50), "pork": (236, 176, 170), "curry": (232, 160, 30), "chicken": (226, 196, 150),
    "chocolate": (92, 52, 30), "cherry": (190, 10, 30), "bun": (214, 150, 66), "patty": (92, 54, 36),
    "taco": (244, 206, 96), "avocado": (130, 170, 60), "chip": (240, 196, 80), "feta": (250, 250, 246),
    "olive": (30, 26, 30), "stew": (124, 66, 36), "potato": (236, 222, 160), "shrimp": (250, 150, 120),
    "oat": (222, 198, 156), "seed": (40, 80, 40), "onion": (240, 230, 240), "mushroom": (150, 120, 96),
    "spinach": (30, 110, 40),
}


@dataclass(frozen=True)
class Part:
    ingredient: str
    look: str
    colour: str
    draw: str
    params: tuple = ()


@dataclass(frozen=True)
class Dish:
    name: str
    container: str  # plate | bowl | board | pan
    parts: tuple[Part, ...]
    extra: tuple[str, ...]  # ingredients not visible in the picture
    steps: tuple[str, ...]

    @property
    def ingredients(self) -> list[str]:
        seen: list[str] = []
        for name in [p.ingredient for p in self.parts] + list(self.extra):
            if name not in seen:
                seen.append(name)
        return seen

    @property
    def visible_ingredients(self) -> list[str]:
        return list(dict.fromkeys(p.ingredient for p in self.parts))


P = Part
DISHES: list[Dish] = [
    Dish("spaghetti bolognese", "plate",
         (P("spaghetti", "yellow strands of spaghetti", "pasta", "strands", (0.34, 14)),
          P("tomato sauce", "red tomato sauce", "sauce", "blob", (0.17,)),
          P("minced beef", "brown minced beef", "beef", "pieces", (0.16, 9, 0.035, "circle")),
          P("basil", "green basil leaves", "herb", "pieces", (0.2, 3, 0.06, "leaf"))),
         ("onion", "garlic", "olive oil"),
         ("Boil the spaghetti in salted water until tender.", "Fry the onion and garlic in olive oil.",
          "Brown the minced beef in the pan.", "Add the tomato sauce and simmer for twenty minutes.",
          "Serve the sauce over the spaghetti with basil.")),
    Dish("margherita pizza", "board",
         (P("pizza dough", "a round golden crust", "crust", "fill", (0.40,)),
          P("tomato sauce", "red tomato sauce", "sauce", "fill", (0.33,)),
          P("mozzarella", "white slices of mozzarella", "mozzarella", "pieces", (0.24, 5, 0.07, "circle")),
          P("basil", "green basil leaves", "herb", "pieces", (0.24, 4, 0.05, "leaf"))),
         ("olive oil", "salt"),
         ("Stretch the pizza dough into a round base.", "Spread the tomato sauce over the dough.",
          "Add slices of mozzarella.", "Bake in a very hot oven for ten minutes.",
          "Top with basil and a drizzle of olive oil.")),
    Dish("pepperoni pizza", "board",
         (P("pizza dough", "a round golden crust", "crust", "fill", (0.40,)),
          P("cheese", "melted yellow cheese", "cheese", "fill", (0.33,)),
          P("pepperoni", "dark red pepperoni slices", "pepperoni", "pieces", (0.24, 7, 0.055, "circle"))),
         ("tomato sauce", "oregano"),
         ("Stretch the pizza dough into a round base.", "Spread the tomato sauce and sprinkle the cheese.",
          "Cover with pepperoni slices.", "Bake in a very hot oven for twelve minutes.")),
    Dish("fried rice", "pan",
         (P("rice", "white grains of rice", "rice", "grains", (0.34, 140)),
          P("peas", "green peas", "pea", "pieces", (0.3, 14, 0.03, "circle")),
          P("carrot", "orange carrot cubes", "carrot", "pieces", (0.3, 12, 0.03, "square")),
          P("egg", "yellow scrambled egg", "yolk", "pieces", (0.28, 6, 0.045, "blob"))),
         ("soy sauce", "spring onion", "oil"),
         ("Cook the rice and let it cool.", "Scramble the egg in a hot pan with oil.",
          "Stir fry the carrot and peas.", "Add the rice and soy sauce and stir fry for five minutes.",
          "Mix in the egg and spring onion.")),
    Dish("tomato soup", "bowl",
         (P("tomato", "red tomato soup", "tomato", "fill", (0.34,)),
          P("cream", "a white swirl of cream", "cream", "swirl", (0.15,)),
          P("parsley", "green chopped parsley", "herb", "pieces", (0.26, 6, 0.025, "circle"))),
         ("onion", "garlic", "vegetable stock"),
         ("Soften the onion and garlic in a pot.", "Add chopped tomato and vegetable stock.",
          "Simmer for twenty minutes and blend until smooth.", "Serve with a swirl of cream and parsley.")),
    Dish("pea soup", "bowl",
         (P("peas", "green pea soup", "greensoup", "fill", (0.34,)),
          P("croutons", "golden croutons", "crouton", "pieces", (0.24, 6, 0.05, "square")),
          P("cream", "a white swirl of cream", "cream", "swirl", (0.12,))),
         ("onion", "vegetable stock", "butter"),
         ("Melt the butter and soften the onion.", "Add the peas and vegetable stock.",
          "Simmer for ten minutes and blend until smooth.", "Serve with cream and croutons.")),
    Dish("pumpkin soup", "bowl",
         (P("pumpkin", "orange pumpkin soup", "pumpkin", "fill", (0.34,)),
          P("pumpkin seeds", "dark green pumpkin seeds", "seed", "pieces", (0.2, 9, 0.025, "leaf")),
          P("cream", "a white swirl of cream", "cream", "ring", (0.16,))),
         ("onion", "vegetable stock", "nutmeg"),
         ("Roast the pumpkin until soft.", "Cook the onion in a pot and add the pumpkin and stock.",
          "Blend until smooth and season with nutmeg.", "Serve with cream and pumpkin seeds.")),
    Dish("green salad", "bowl",
         (P("lettuce", "green lettuce leaves", "lettuce", "pieces", (0.3, 12, 0.09, "leaf")),
          P("tomato", "red cherry tomatoes", "tomato", "pieces", (0.24, 5, 0.05, "circle")),
          P("cucumber", "pale green cucumber slices", "cucumber", "pieces", (0.24, 5, 0.05, "circle"))),
         ("olive oil", "lemon juice", "salt"),
         ("Wash and tear the lettuce.", "Halve the tomatoes and slice the cucumber.",
          "Whisk olive oil, lemon juice and salt.", "Toss everything with the dressing.")),
    Dish("fruit salad", "bowl",
         (P("strawberries", "red strawberries", "strawberry", "pieces", (0.28, 5, 0.055, "heart")),
          P("banana", "pale yellow banana slices", "banana", "pieces", (0.28, 5, 0.05, "circle")),
          P("blueberries", "dark blue blueberries", "blueberry", "pieces", (0.28, 7, 0.03, "circle")),
          P("kiwi", "green kiwi slices", "kiwi", "pieces", (0.28, 4, 0.05, "circle"))),
         ("honey", "mint"),
         ("Wash the strawberries and blueberries.", "Slice the banana and peel and slice the kiwi.",
          "Mix the fruit in a bowl.", "Drizzle with honey and add mint.")),
    Dish("sushi", "board",
         (P("rice", "white rounds of rice", "rice", "pieces", (0.26, 6, 0.085, "circle")),
          P("nori", "black rings of nori seaweed", "nori", "rims", (0.085,)),
          P("salmon", "orange salmon centres", "salmon", "centres", (0.04,))),
         ("rice vinegar", "soy sauce", "wasabi"),
         ("Cook the sushi rice and season it with rice vinegar.", "Lay the rice on a sheet of nori.",
          "Place a strip of salmon in the middle and roll it tightly.", "Cut the roll into pieces.",
          "Serve with soy sauce and wasabi.")),
    Dish("pancakes", "plate",
         (P("pancake", "a stack of golden pancakes", "pancake", "fill", (0.30,)),
          P("maple syrup", "brown maple syrup", "syrup", "blob", (0.15,)),
          P("strawberries", "red strawberries", "strawberry", "pieces", (0.3, 4, 0.05, "heart"))),
         ("flour", "milk", "egg", "butter"),
         ("Whisk the flour, milk and egg into a batter.", "Melt butter in a pan.",
          "Pour in small rounds of batter and cook both sides until golden.",
          "Stack the pancakes and pour over the maple syrup.", "Top with strawberries.")),
    Dish("bacon and eggs", "plate",
         (P("egg", "a fried egg with a yellow yolk", "mozzarella", "egg", (0.15,)),
          P("bacon", "red strips of bacon", "bacon", "pieces", (0.3, 3, 0.1, "strip")),
          P("tomato", "a grilled red tomato", "tomato", "pieces", (0.3, 2, 0.06, "circle"))),
         ("butter", "salt", "black pepper"),
         ("Fry the bacon until crisp.", "Grill the tomato halves.",
          "Fry the egg in butter until the white is set.", "Season with salt and black pepper and serve.")),
    Dish("ramen", "bowl",
         (P("broth", "brown broth", "broth", "fill", (0.34,)),
          P("noodles", "yellow noodles", "pasta", "strands", (0.22, 8)),
          P("egg", "a halved boiled egg", "mozzarella", "egg", (0.07,)),
          P("pork", "pink slices of pork", "pork", "pieces", (0.26, 2, 0.07, "square")),
          P("spring onion", "green spring onion", "herb", "pieces", (0.26, 6, 0.02, "circle"))),
         ("soy sauce", "miso", "garlic"),
         ("Simmer the broth with soy sauce, miso and garlic.", "Boil the noodles for three minutes.",
          "Soft boil the egg and cut it in half.", "Put the noodles in a bowl and pour over the broth.",
          "Top with pork, egg and spring onion.")),
    Dish("chicken curry", "plate",
         (P("rice", "white rice on one side", "rice", "half", (0.36, 0)),
          P("curry sauce", "orange curry sauce on the other side", "curry", "half", (0.36, 1)),
          P("chicken", "pale pieces of chicken", "chicken", "pieces", (0.18, 5, 0.05, "square"))),
         ("onion", "curry paste", "coconut milk"),
         ("Fry the onion with the curry paste.", "Add the chicken and brown it.",
          "Pour in the coconut milk and simmer for twenty minutes.", "Cook the rice.",
          "Serve the curry beside the rice.")),
    Dish("chocolate cake", "plate",
         (P("chocolate", "a dark brown slice of chocolate cake", "chocolate", "wedge", (0.3,)),
          P("cream", "white whipped cream", "cream", "pieces", (0.1, 1, 0.08, "circle")),
          P("cherry", "a red cherry", "cherry", "pieces", (0.04, 1, 0.045, "circle"))),
         ("flour", "sugar", "egg", "butter", "cocoa"),
         ("Beat the butter and sugar, then add the egg.", "Fold in the flour and cocoa.",
          "Bake for thirty minutes and let it cool.", "Cut a slice and top with cream and a cherry.")),
    Dish("burger", "plate",
         (P("bun", "a golden bun", "bun", "band", (0, 0.3)),
          P("lettuce", "green lettuce", "lettuce", "band", (1, 0.08)),
          P("tomato", "a red tomato slice", "tomato", "band", (2, 0.08)),
          P("cheese", "yellow cheese", "cheese", "band", (3, 0.08)),
          P("beef patty", "a brown beef patty", "patty", "band", (4, 0.16)),
          P("bun", "a golden bun", "bun", "band", (5, 0.2))),
         ("salt", "ketchup"),
         ("Season the beef patty with salt.", "Grill the beef patty for four minutes a side.",
          "Melt the cheese on the patty.", "Toast the bun.",
          "Stack the bun, lettuce, tomato, patty and ketchup.")),
    Dish("tacos", "board",
         (P("tortilla", "yellow taco shells", "taco", "tacos", (0.3,)),
          P("beef", "brown beef filling", "beef", "fillings", (0.3,)),
          P("lettuce", "green lettuce", "lettuce", "pieces", (0.3, 6, 0.03, "circle")),
          P("tomato", "red diced tomato", "tomato", "pieces", (0.3, 6, 0.025, "square"))),
         ("cumin", "lime"),
         ("Brown the beef with cumin.", "Warm the tortilla shells.", "Fill each shell with the beef.",
          "Top with lettuce and tomato and squeeze over lime.")),
    Dish("guacamole", "bowl",
         (P("avocado", "green mashed avocado", "avocado", "fill", (0.26,)),
          P("tortilla chips", "golden tortilla chips around it", "chip", "around", (0.37, 7)),
          P("tomato", "red diced tomato", "tomato", "pieces", (0.18, 5, 0.025, "square"))),
         ("lime", "onion", "salt", "coriander"),
         ("Mash the avocado in a bowl.", "Stir in diced tomato, onion and coriander.",
          "Season with lime juice and salt.", "Serve with tortilla chips.")),
    Dish("greek salad", "bowl",
         (P("cucumber", "pale green cucumber chunks", "cucumber", "pieces", (0.3, 6, 0.05, "square")),
          P("tomato", "red tomato chunks", "tomato", "pieces", (0.3, 6, 0.05, "square")),
          P("feta", "white cubes of feta", "feta", "pieces", (0.22, 4, 0.06, "square")),
          P("olives", "black olives", "olive", "pieces", (0.3, 6, 0.03, "circle"))),
         ("red onion", "olive oil", "oregano"),
         ("Chop the cucumber and tomato into chunks.", "Slice the red onion thinly.",
          "Add the olives and the feta on top.", "Dress with olive oil and oregano.")),
    Dish("beef stew", "pan",
         (P("beef", "brown beef stew", "stew", "fill", (0.34,)),
          P("carrot", "orange carrot slices", "carrot", "pieces", (0.3, 6, 0.04, "circle")),
          P("potato", "pale potato chunks", "potato", "pieces", (0.3, 5, 0.06, "square"))),
         ("onion", "beef stock", "thyme"),
         ("Brown the beef in a heavy pot.", "Add the onion, carrot and potato.",
          "Pour in the beef stock with thyme.", "Simmer gently for two hours until tender.")),
    Dish("shrimp pasta", "plate",
         (P("pasta", "yellow strands of pasta", "pasta", "strands", (0.34, 14)),
          P("shrimp", "pink shrimp", "shrimp", "pieces", (0.26, 5, 0.06, "crescent")),
          P("parsley", "green parsley", "herb", "pieces", (0.28, 7, 0.025, "circle"))),
         ("garlic", "butter", "lemon"),
         ("Boil the pasta until tender.", "Fry the garlic in butter.",
          "Add the shrimp and cook for three minutes.", "Toss with the pasta, lemon and parsley.")),
    Dish("oatmeal", "bowl",
         (P("oats", "creamy beige oatmeal", "oat", "fill", (0.34,)),
          P("blueberries", "dark blue blueberries", "blueberry", "pieces", (0.24, 8, 0.03, "circle")),
          P("banana", "pale yellow banana slices", "banana", "pieces", (0.24, 4, 0.055, "circle"))),
         ("milk", "honey"),
         ("Simmer the oats in milk for five minutes.", "Stir until thick and creamy.",
          "Pour into a bowl.", "Top with banana, blueberries and honey.")),
    Dish("caprese salad", "plate",
         (P("tomato", "red tomato slices", "tomato", "alternate", (0.28, 0)),
          P("mozzarella", "white mozzarella slices", "mozzarella", "alternate", (0.28, 1)),
          P("basil", "green basil leaves", "herb", "pieces", (0.12, 3, 0.05, "leaf"))),
         ("olive oil", "salt", "black pepper"),
         ("Slice the tomato and the mozzarella.", "Arrange them in a circle, alternating.",
          "Tuck the basil leaves between them.", "Season and drizzle with olive oil.")),
    Dish("mushroom risotto", "pan",
         (P("rice", "creamy white rice", "rice", "grains", (0.34, 120)),
          P("mushrooms", "brown mushrooms", "mushroom", "pieces", (0.28, 7, 0.055, "crescent")),
          P("parmesan", "yellow grated parmesan", "cheese", "pieces", (0.26, 10, 0.02, "circle"))),
         ("onion", "vegetable stock", "butter", "white wine"),
         ("Fry the mushrooms in butter and set aside.", "Soften the onion and toast the rice.",
          "Add white wine, then the stock a ladle at a time, stirring for twenty minutes.",
          "Stir in the mushrooms and parmesan.")),
    Dish("spinach omelette", "pan",
         (P("egg", "a golden yellow omelette", "yolk", "fill", (0.3,)),
          P("spinach", "dark green spinach", "spinach", "pieces", (0.22, 6, 0.05, "leaf")),
          P("feta", "white crumbled feta", "feta", "pieces", (0.22, 5, 0.03, "square"))),
         ("butter", "salt", "milk"),
         ("Beat the eggs with milk and salt.", "Melt butter in a pan and wilt the spinach.",
          "Pour in the eggs and cook until set.", "Add the feta and fold the omelette.")),
]
DISH_NAMES: list[str] = [d.name for d in DISHES]
CONTAINERS: list[str] = ["plate", "bowl", "board", "pan"]
TABLES: dict[str, tuple[int, int, int]] = {
    "wooden": (150, 104, 64),
    "blue": (84, 112, 160),
    "grey": (110, 110, 112),
    "dark green": (52, 88, 64),
}
TABLE_NAMES: list[str] = list(TABLES)
