"""The fixed product catalogue: 500 products in 12 categories."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from python_udfs.generator.config import _cdf

_CATEGORIES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("apparel", 25.0, ("T-Shirt", "Hoodie", "Jeans", "Jacket", "Dress", "Sweater")),
    ("footwear", 60.0, ("Sneakers", "Boots", "Sandals", "Loafers", "Slippers")),
    (
        "electronics",
        45.0,
        ("Headphones", "Charger", "Speaker", "Smartwatch", "Keyboard", "Mouse"),
    ),
    ("home", 20.0, ("Cushion", "Lamp", "Throw", "Candle", "Frame", "Rug")),
    (
        "kitchen",
        18.0,
        ("Mug", "Kettle", "Pan", "Knife Set", "Teapot", "Cutting Board"),
    ),
    ("beauty", 15.0, ("Face Cream", "Shampoo", "Lipstick", "Perfume", "Serum")),
    ("toys", 20.0, ("Puzzle", "Building Set", "Plush Bear", "Board Game", "Kite")),
    (
        "sports",
        22.0,
        ("Yoga Mat", "Water Bottle", "Dumbbell", "Tennis Balls", "Running Belt"),
    ),
    ("books", 12.0, ("Novel", "Cookbook", "Travel Guide", "Notebook", "Atlas")),
    (
        "garden",
        16.0,
        ("Plant Pot", "Seed Kit", "Watering Can", "Pruner", "Bird Feeder"),
    ),
    ("grocery", 8.0, ("Coffee Beans", "Olive Oil", "Tea Box", "Chocolate", "Honey")),
    (
        "accessories",
        28.0,
        ("Wallet", "Backpack", "Sunglasses", "Scarf", "Watch Strap"),
    ),
)
_ADJECTIVES = (
    "Classic",
    "Urban",
    "Eco",
    "Premium",
    "Vintage",
    "Nordic",
    "Compact",
    "Deluxe",
    "Everyday",
    "Studio",
    "Coastal",
    "Alpine",
)
_BRANDS = (
    "auren", "belvo", "corla", "dastra", "elmira", "fenno", "galvi", "harlo",
    "istra", "jovik", "kelda", "lumeo", "marvo", "norda", "orvik", "pesta",
    "quillo", "rovan", "solte", "truva", "ulmo", "vestra", "wenda", "xylo",
)  # fmt: skip
_N_PRODUCTS = 500
_NO_CATEGORY_CODE = frozenset({"grocery", "garden"})  # REES46 leaves some empty
_EMPTY_BRAND_SHARE = 0.12
_CATALOGUE_SEED = 20220101  # the catalogue does not depend on --seed


@dataclass(frozen=True)
class _Catalogue:
    """Fixed product catalogue, indexed by product position 0..499."""

    product_id: pa.Array
    product_name: pa.Array
    product_category: pa.Array
    number: np.ndarray  # numeric part of product_id (events' product_id)
    popularity_cdf: np.ndarray
    list_price: np.ndarray
    category_id: np.ndarray
    category_code: pa.Array
    brand: pa.Array


@functools.cache
def _catalogue() -> _Catalogue:
    """Build the deterministic catalogue of 500 products in 12 categories."""
    rng = np.random.default_rng(_CATALOGUE_SEED)
    per_category = np.full(len(_CATEGORIES), _N_PRODUCTS // len(_CATEGORIES))
    per_category[: _N_PRODUCTS - per_category.sum()] += 1
    names, categories, codes, brands, category_ids, prices = [], [], [], [], [], []
    for (category, base_price, nouns), count in zip(
        _CATEGORIES, per_category, strict=True
    ):
        pairs = [(adj, noun) for noun in nouns for adj in _ADJECTIVES]
        chosen = rng.permutation(len(pairs))[:count]
        noun_ids = rng.integers(10**17, 9 * 10**17, size=len(nouns))
        category_brands = rng.choice(len(_BRANDS), size=4, replace=False)
        for index in chosen:
            adj, noun = pairs[index]
            noun_index = nouns.index(noun)
            names.append(f"{adj} {noun}")
            categories.append(category)
            slug = noun.lower().replace(" ", "_").replace("-", "")
            codes.append(
                None if category in _NO_CATEGORY_CODE else f"{category}.{slug}"
            )
            category_ids.append(2 * 10**18 + int(noun_ids[noun_index]))
            empty = rng.random() < _EMPTY_BRAND_SHARE
            brands.append(None if empty else _BRANDS[rng.choice(category_brands)])
            prices.append(round(float(base_price * rng.lognormal(0.0, 0.5)), 2))
    order = rng.permutation(_N_PRODUCTS)  # interleave categories over the ids

    def arrange(values: list) -> list:
        return [values[i] for i in order]

    popularity = 1.0 / (rng.permutation(_N_PRODUCTS) + 8.0)
    return _Catalogue(
        product_id=pa.array([f"P{i:05d}" for i in range(1, _N_PRODUCTS + 1)]),
        product_name=pa.array(arrange(names), pa.string()),
        product_category=pa.array(arrange(categories), pa.string()),
        number=np.arange(1, _N_PRODUCTS + 1, dtype=np.int64),
        popularity_cdf=_cdf(popularity),
        list_price=np.array(arrange(prices), dtype=np.float64),
        category_id=np.array(arrange(category_ids), dtype=np.int64),
        category_code=pa.array(arrange(codes), pa.string()),
        brand=pa.array(arrange(brands), pa.string()),
    )
