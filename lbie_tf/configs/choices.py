"""Every choice list of the configs, defined once: the config records check their fields against these, the
layers check their arguments against them, and the command line lists them in its help."""

# Segmentation model (SegmenterConfig).
IMAGE_ENCODERS = ("cosal_paper", "cosal_released", "vgg16")
TEXT_ENCODERS = ("sentences", "words")
ATTENTION_SCORES = ("bilinear", "scaled_dot", "additive")
RESET_GATE_TARGETS = ("state", "text")
GATE_SOURCES = ("state", "decoder")
FINAL_STEP = ("force", "drop")
INFERENCE_STOP = ("first_gate", "most_likely")
SEGMENTATION_DECODERS = ("paper", "released")
OUTPUT_PROJECTION_INITS = ("glorot", "identity")  # C-GRU W7
TERMINATION_KERNEL_INITS = ("glorot", "zeros")  # termination gate
BATCH_NORM_INFERENCE = ("moving", "batch", "initial")  # statistics of segmentation BatchNorm at inference

# Training (TrainingConfig).
TERMINATION_TRAINING = ("gumbel", "marginal", "reinforce")
JIT_COMPILE = ("auto", "on", "off")
LEARNING_RATE_SCHEDULES = ("constant", "cosine")
STRATEGIES = ("auto", "default", "one_device", "mirrored", "multi_worker")

# Colorization (ColorizerConfig, DiscriminatorConfig, GanConfig).
COLORIZER_ATTENTION_SCORES = ("bilinear", "additive")
COLORIZER_INITIALIZERS = ("released", "he")
COLORIZER_BATCH_NORM_INFERENCE = ("moving", "batch")
DISCRIMINATOR_TEXT = ("shared", "own", "none")
PIXEL_LOSSES = ("l1", "l2")
GAN_GENERATOR_LOSSES = ("non_saturating", "minimax")

# Data (FlowersConfig, ReferitConfig).
FLOWERS_SPLIT_SCHEMES = ("class_disjoint", "official")
FLOWERS_CAPTIONS = ("all", "one_per_epoch")
FLOWERS_TOKENIZERS = ("words", "released")
REFERIT_SPLITS = ("trainval", "test")

# Datasets the entry points train on.
SEGMENTATION_DATASETS = ("cosal", "referit")
COLORIZATION_DATASETS = ("cosal", "flowers")
