"""The configuration records: plain frozen dataclasses, the one place every default and choice list lives.

Library code receives these records and never reads absl `FLAGS`, so it can be used from notebooks and tests;
the entry points' flags are generated from them (`lbie_tf.cli.flags`). Every field where the paper and the
released code disagree names both in its docstring; the presets in `configs/*.cfg` set whole families of
fields at once.
"""

from lbie_tf.configs.colorization import ColorizerConfig, DiscriminatorConfig, GanConfig
from lbie_tf.configs.cosal import CosalConfig
from lbie_tf.configs.flowers import FlowersConfig
from lbie_tf.configs.referit import ReferitConfig
from lbie_tf.configs.segmenter import SegmenterConfig
from lbie_tf.configs.training import TrainingConfig
from lbie_tf.configs.validation import changed_fields, field_defaults

__all__ = ["ColorizerConfig", "CosalConfig", "DiscriminatorConfig", "FlowersConfig", "GanConfig", "ReferitConfig",
           "SegmenterConfig", "TrainingConfig", "changed_fields", "field_defaults"]
