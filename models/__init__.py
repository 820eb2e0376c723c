"""Network definitions (torch only) and a timm-style registry; importing this package registers all families.

Never import other ``tryon.*`` modules from here: the models are shared by training, export and the server.
"""

from tryon.models._registry import create_model, is_model, list_models, model_entrypoint, register_model

# Family files register their variants on import.
from tryon.models import teacher_refine  # noqa: E402,F401  isort: skip

__all__ = ["create_model", "is_model", "list_models", "model_entrypoint", "register_model", "teacher_refine"]
