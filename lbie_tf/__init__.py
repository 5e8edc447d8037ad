"""lbie_tf: Language-Based Image Editing with Recurrent Attentive Models (Chen et al., CVPR 2018)."""

__version__ = "0.1.0"
