"""`CosalConfig`: what CoSaL data to generate (`lbie_tf.data.cosal`)."""

from __future__ import annotations

import dataclasses

from lbie_tf.errors import ConfigError

NUM_CELLS = 9
GRID = 3
MIN_CELL_SIZE = 6  # smallest cell where every shape is non-empty (ellipse minor axis cell // 6 >= 1)


def parse_curriculum(items) -> tuple[tuple[int, int], ...]:
    """`["8:1000", "6:2000"]` → `((8, 1000), (6, 2000))`; a malformed item is a one-line ConfigError."""
    stages = []
    for item in items:
        parts = item.split(":")
        if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
            raise ConfigError(f"CosalConfig.curriculum items are num_direct:end_step, got {item!r}")
        stages.append((int(parts[0]), int(parts[1])))
    return tuple(stages)


def format_curriculum(stages) -> list[str]:
    """`((8, 1000),)` → `["8:1000"]`, the inverse of `parse_curriculum`."""
    return [f"{n}:{end}" for n, end in stages]


def parse_num_direct_mixture(items) -> tuple[int, ...]:
    """`["4", "6", "8"]` → `(4, 6, 8)`; a malformed item is a one-line ConfigError."""
    if not all(str(item).strip().isdigit() for item in items):
        raise ConfigError(f"CosalConfig.num_direct_mixture items are numbers of direct sentences, got {list(items)}")
    return tuple(int(item) for item in items)


def format_num_direct_mixture(values) -> list[str]:
    """`(4, 6)` → `["4", "6"]`, the inverse of `parse_num_direct_mixture`."""
    return [str(value) for value in values]


@dataclasses.dataclass(frozen=True)
class CosalConfig:
    """What CoSaL data to generate.

    Attributes:
        image_size: height = width in pixels (paper and code: 48); a multiple of 3, cells are image_size // 3.
        num_direct: number of direct sentences `[shape, is, colour]` per caption (1..9); the other
            9 - num_direct sentences are relational. Released-code CLI default 1.
        legacy_captions: False (default) = every cell's colour is determined by the caption, as the paper
            says. True = the released code's caption order (make_data.py:225): relational sentences grow only
            from the first direct cell and may re-describe other direct cells, leaving some cells without any
            information (mean 7.12 determined cells at num_direct 4).
        seed: data seed (flag `--data_seed`); the same seed gives the same images, captions and training order.
        train_size: number of distinct training images, revisited in a new order every epoch (paper: 50,000);
            0 = an endless stream of fresh images.
        test_size: number of test images (paper: 10,000), drawn from a stream disjoint from training.
        curriculum: (num_direct, end_step) stages of the training stream before `num_direct` (ours, empty =
            none): batches before end_step use that stage's num_direct, e.g. ((4, 3000),) trains steps
            0-2999 with 4 direct sentences, then `num_direct`. The test split always uses `num_direct`.
        num_direct_mixture: numbers of direct sentences to mix in the training stream (ours, empty = none):
            each training example draws one of them uniformly (a pure function of its id; repeat a value to
            weight it), e.g. (4, 4, 5, 6, 7, 8) trains one model for captions with 4 to 8 direct sentences.
            It replaces `num_direct` in training after any curriculum stage; the test split uses `num_direct`.
        augment: label-preserving sketch augmentation of the training stream (ours, default off; the paper
            draws exact sketches): per cell a small scale and shift of the shape and its stroke width, then
            anti-aliased edges with a random tone curve, the ink level, and JPEG noise
            (`lbie_tf.data.cosal_augmentation` has the ranges). The labels follow the moved and re-stroked
            shapes; the test split is never augmented.
    """

    # The command line's names (`metadata["flag"]`; None: set by the entry point from the model's image size).
    image_size: int = dataclasses.field(default=48, metadata={"flag": None})
    num_direct: int = 4
    legacy_captions: bool = dataclasses.field(default=False, metadata={"flag": "cosal_legacy_captions"})
    seed: int = dataclasses.field(default=0, metadata={"flag": "data_seed"})
    train_size: int = dataclasses.field(default=50_000, metadata={"flag": "cosal_train_size"})
    test_size: int = dataclasses.field(default=10_000, metadata={"flag": "cosal_test_size"})
    curriculum: tuple[tuple[int, int], ...] = dataclasses.field(
        default=(), metadata={"flag": "cosal_curriculum", "parse": parse_curriculum, "format": format_curriculum})
    num_direct_mixture: tuple[int, ...] = dataclasses.field(
        default=(), metadata={"flag": "cosal_num_direct_mixture", "parse": parse_num_direct_mixture,
                              "format": format_num_direct_mixture})
    augment: bool = dataclasses.field(default=False, metadata={"flag": "cosal_augment"})

    def __post_init__(self):
        if not 1 <= self.num_direct <= NUM_CELLS:
            raise ConfigError(f"CosalConfig.num_direct must be in 1..{NUM_CELLS}, got {self.num_direct}")
        ends = [end for _, end in self.curriculum]
        if any(not 1 <= n <= NUM_CELLS for n, _ in self.curriculum) or ends != sorted(set(ends)) or (
                ends and ends[0] < 1):
            raise ConfigError(f"CosalConfig.curriculum needs num_direct:end_step stages with num_direct in "
                              f"1..{NUM_CELLS} and increasing end steps >= 1, got {list(self.curriculum)}")
        if any(not 1 <= n <= NUM_CELLS for n in self.num_direct_mixture):
            raise ConfigError(f"CosalConfig.num_direct_mixture values must be in 1..{NUM_CELLS}, got "
                              f"{list(self.num_direct_mixture)}")
        if self.image_size % GRID or self.image_size // GRID < MIN_CELL_SIZE:
            raise ConfigError(f"CosalConfig.image_size must be a multiple of {GRID} and at least "
                              f"{GRID * MIN_CELL_SIZE}, got {self.image_size}")
        if self.train_size < 0 or self.test_size < 0:
            raise ConfigError(f"CosalConfig.train_size and CosalConfig.test_size must be >= 0, got "
                              f"{self.train_size}, {self.test_size}")

    @property
    def cell_size(self) -> int:
        """Side of one grid cell in pixels."""
        return self.image_size // GRID
