"""Request, response and error models of the HTTP API (they are the published OpenAPI schema).

The shapes follow the hosted try-on APIs (FASHN ``/v1/run`` + ``/v1/status/{id}``, error names, Replicate's
``Prefer: wait``), see ``docs/api-conventions.md``. JSON is snake_case.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from tryon.garment.category import CATEGORY_NAMES

__all__ = [
    "Category", "Tuck", "MAX_GARMENTS", "JobState", "RunOptions", "GarmentInput", "RunInputs", "RunRequest", "RunForm",
    "RunAccepted", "ErrorInfo", "JobMetrics", "JobStatus", "ErrorBody", "ModelFile", "ModelInfo", "Health",
    "Readiness",
]

Category = Literal[CATEGORY_NAMES]
"""Garment categories as the hosted APIs spell them, and the older ``top | dress | lower`` (one list,
:data:`tryon.garment.category.CATEGORY_NAMES`). A category the server does not dress (``GET /v1/models``
lists what it dresses, and with which engine) answers 422 UnsupportedCategoryError."""

Tuck = Literal["out", "in"]
"""How an outfit's top meets its bottom (:data:`tryon.teacher.outfit.TUCKS`)."""

MAX_GARMENTS = 3
"""Most garments in one job: one per category."""

JobState = Literal["in_queue", "processing", "completed", "failed"]


class RunOptions(BaseModel):
    """Options of a try-on job (shared by the JSON and the multipart forms of ``POST /v1/run``)."""

    model_config = ConfigDict(extra="ignore")

    category: Category = Field("auto", description="Garment category. A category the server does not "
                                                   "dress (see `categories` in GET /v1/models) answers 422 "
                                                   "UnsupportedCategoryError. `auto` classifies the garment: one "
                                                   "of a category the server does not dress, or one the classifier "
                                                   "cannot tell, fails the job with UnsupportedCategoryError.")
    tuck: Tuck = Field("out", description="Outfits (`garments` with a top and a bottom): `out` dresses the bottom "
                                          "first and the top over its waistband, `in` the top first and the bottom "
                                          "over it.")
    garment_photo_type: Literal["auto", "flat-lay"] = Field(
        "auto", description="The garment photo is an in-shop/flat-lay shot on a plain background.")
    output_format: Literal["png", "jpeg"] = Field("png", description="Encoding of the output data URI.")
    seed: int | None = Field(None, description="Accepted for compatibility; the model is deterministic.")


class GarmentInput(BaseModel):
    """One garment of an outfit (``inputs.garments``)."""

    model_config = ConfigDict(extra="ignore")

    garment_image: str = Field(min_length=1, description="In-shop garment photo on a plain background: data URI or "
                                                         "base64.")
    category: Category = Field("auto", description="This garment's category (`auto` classifies it).")


class RunInputs(RunOptions):
    """JSON inputs: images as ``data:image/...;base64,`` URIs or bare base64 (URLs are not fetched).

    One garment (``garment_image`` + ``category``, FASHN's form) or an outfit (``garments``: one per category,
    dressed in the layering order of ``tuck``, ``tryon.teacher.outfit``); exactly one of the two (checked by the
    route, which answers 422 naming the field).
    """

    person_image: str = Field(min_length=1, validation_alias=AliasChoices("person_image", "model_image"),
                              description="Person photo: data URI or base64 (`model_image` is accepted as an alias).")
    garment_image: str | None = Field(None, min_length=1,
                                      description="In-shop garment photo on a plain background: data URI or base64.")
    garments: list[GarmentInput] | None = Field(
        None, min_length=1, max_length=MAX_GARMENTS,
        description="An outfit instead of `garment_image`: one garment per category (a top and a bottom, or a "
                    "one-piece alone), each with its own `category`.")


class RunRequest(BaseModel):
    """JSON body of ``POST /v1/run`` (FASHN-style envelope)."""

    model_config = ConfigDict(extra="ignore")

    model_name: str | None = Field(None, description="Model to run; default the loaded one (see GET /v1/models).")
    inputs: RunInputs


class RunForm(RunOptions):
    """``multipart/form-data`` body of ``POST /v1/run``: the photos as file parts plus option fields. An outfit
    repeats ``garment_image`` (one part per garment, up to :data:`MAX_GARMENTS`) with ``garment_category`` fields
    in the same order (or none: every garment ``auto``)."""

    person_image: bytes = Field(json_schema_extra={"format": "binary"}, description="Person photo file.")
    garment_image: list[bytes] = Field(json_schema_extra={"items": {"type": "string", "format": "binary"}},
                                       min_length=1, max_length=MAX_GARMENTS,
                                       description="Garment photo file; repeated for an outfit.")
    garment_category: list[Category] | None = Field(None, description="Outfits: each garment's category, in the "
                                                                      "order of the garment_image parts.")
    model_name: str | None = None


class RunAccepted(BaseModel):
    """202 answer of ``POST /v1/run``: poll ``Location`` (``/v1/status/{id}``)."""

    id: str
    status: JobState
    error: None = None


class ErrorInfo(BaseModel):
    """Why a job failed (run-time error inside a 200 status object)."""

    name: str = Field(description="ImageLoadError, GarmentBackgroundError, NoPersonError, PoseError, "
                                  "LowConfidenceError (the teacher's quality gate), PipelineError, TimeoutError, ...")
    message: str


class JobMetrics(BaseModel):
    """Timings of a job, seconds."""

    queue_time: float | None = None
    predict_time: float | None = None


class JobStatus(BaseModel):
    """``GET /v1/status/{id}`` (and ``POST /v1/run`` with ``Prefer: wait`` when done in time)."""

    id: str
    status: JobState
    model_name: str = Field(description="What dressed it once completed: `teacher` (the server's teacher), the "
                                        "student's name, or both joined by `+` for an outfit dressed by each "
                                        "(before: the loaded student's name).")
    output: list[str] = Field(default_factory=list, description="Data URIs of the result images.")
    error: ErrorInfo | None = None
    metrics: JobMetrics = Field(default_factory=JobMetrics)
    created_at: float = Field(description="Unix time the job was accepted.")


class ErrorBody(BaseModel):
    """Body of every 4xx/5xx answer."""

    error: str = Field(description="BadRequest, NotFound, PayloadTooLarge, UnsupportedMediaType, ImageLoadError, "
                                   "ImageTooSmall, InputValidationError, UnsupportedCategoryError, "
                                   "ConcurrencyLimitExceeded, ModelNotReady, InternalServerError")
    message: str
    detail: list[dict[str, Any]] | None = None


class ModelFile(BaseModel):
    """One downloadable model file."""

    dtype: str
    url: str = Field(description="Same-origin URL; the `v` query pins the content (long immutable caching).")
    bytes: int
    sha256: str


class ModelInfo(BaseModel):
    """One entry of ``GET /v1/models``."""

    model_name: str
    version: str
    categories: list[str] = Field(description="Every garment category this server dresses (FASHN's names); "
                                              "the model files' own are the manifest's `categories`.")
    engines: dict[str, Literal["student", "teacher"]] = Field(
        default_factory=dict, description="Per category, what dresses it: `student` (these files, as the widget "
                                          "runs them in the browser) or `teacher` (the geometric teacher, on this "
                                          "server only, a few seconds a photo; `tryon serve --teacher-categories`).")
    gated_to: Literal["teacher"] | None = Field(
        default=None, description="What dresses a garment whose student result the student's output gate refused "
                                  "(the old garment left around it, or a garment spilled beside the person): "
                                  "`teacher` when the server runs one, else null (the job fails with "
                                  "LowConfidenceError, as in the browser).")
    resolution: dict[str, int]
    dtype: str = Field(description="The file the server runs.")
    provider: str = Field(description="onnxruntime execution provider in use.")
    manifest_url: str
    files: list[ModelFile]


class Health(BaseModel):
    """``GET /healthz``: the process is alive."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """``GET /readyz``: sessions created and warmed (200) or not (503)."""

    status: Literal["ready", "starting", "no_model", "failed"]
    model_name: str | None = None
    version: str | None = None
    dtype: str | None = None
    provider: str | None = None
    providers: list[str] = Field(default_factory=list, description="Providers bound to the session, in order.")
    queue_depth: int = 0
    queue_size: int = 0
    job_store: str = Field("memory", description="`memory` or `redis`.")
    message: str | None = None
