"""The inference engine: one model session, a bounded job queue and micro-batching workers.

Jobs are accepted by :meth:`Engine.submit` (decoded photos held in memory only, never written to disk), wait in
an ``asyncio.Queue`` bounded by ``settings.queue_size`` (a full queue raises :class:`QueueFullError` -> 429 with
``Retry-After``), and are collected by ``settings.workers`` worker tasks: each takes the first waiting job, gathers
up to ``max_batch`` within ``batch_wait_ms`` (Ray Serve / Triton dynamic-batching style), and runs the batch
in a thread so the event loop keeps answering. The student is exported with batch 1, so a batch runs its jobs
one after another; a graph with a dynamic batch axis gets one stacked step. Status goes to the ``JobStore``.

The categories the served student does not dress (bottoms and one-pieces for the tops student) are dressed by the
geometric teacher (:class:`tryon.teacher.pipeline.Teacher`, ``settings.teacher_categories``), created once at
start-up and run in the same worker thread, one job at a time: a teacher job takes seconds, never the event loop.
When the teacher is loaded it also dresses a job whose student result the student's output gate refused
(:func:`tryon.framing.refuse_output_gate`: the old garment left around the new one, a garment spilled beside the
person); ``GET /v1/models`` says so (``gated_to``), so the widget offers the server for such photos.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tryon.errors import LowConfidenceError, TryonError, UnsupportedCategoryError
from tryon.server.config import Settings
from tryon.server.jobs import EncodedResult, JobStore
from tryon.server.schemas import JobStatus, RunOptions

__all__ = ["Job", "Engine", "QueueFullError", "NotReadyError"]

log = logging.getLogger(__name__)


class QueueFullError(Exception):
    """The queue holds ``queue_size`` jobs already; ``retry_after`` is a guess in whole seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"the queue is full; retry in {retry_after} s")
        self.retry_after = retry_after


class NotReadyError(Exception):
    """No model is loaded (none configured, or still starting)."""


@dataclass
class Job:
    """One accepted try-on job (photos in memory only).

    Attributes:
        id: public job id.
        person: (H, W, 3) uint8 RGB person photo.
        garment: (Hg, Wg, 3) uint8 RGB garment photo.
        options: the request's options.
        outfit: for an outfit, every garment photo (``garment`` is the first) with its category as sent; None
            for one garment (its category is ``options.category``).
        created_at: wall-clock time it was accepted (Unix seconds).
        done: set when the job completed or failed.
        engines: the models that dressed it, in order (:meth:`ran`).
    """

    id: str
    person: np.ndarray
    garment: np.ndarray
    options: RunOptions
    outfit: list[tuple[np.ndarray, str]] | None = None
    created_at: float = field(default_factory=time.time)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    engines: list[str] = field(default_factory=list)

    def ran(self, name: str) -> None:
        """Record a model that dressed (part of) this job: its status names them (``"teacher"``, the student's)."""
        if name not in self.engines:
            self.engines.append(name)


class Engine:
    """Owns the model, the queue and the workers; created and started in the app's lifespan.

    Args:
        settings: the server settings.
        store: where job status lives.
    """

    def __init__(self, settings: Settings, store: JobStore):
        self.settings = settings
        self.store = store
        self.model: Any = None  # tryon.student_runner.StudentRunner once loaded
        self.teacher: Any = None  # tryon.teacher.pipeline.Teacher when some category is the teacher's
        self.teacher_categories: tuple[str, ...] = ()  # what the teacher dresses here (Settings.teacher_for)
        self._teacher_lock = threading.Lock()  # one teacher run at a time (its analysers are shared state)
        self.state = "no_model" if settings.model_dir is None else "starting"
        self.message: str | None = None
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._depth = 0  # jobs accepted and not yet taken by a worker (bounded by queue_size)
        self._workers: list[asyncio.Task[None]] = []
        self._predict_ema = 1.0  # seconds per job, for Retry-After
        self.decode_slots = asyncio.Semaphore(settings.decode_concurrency)  # photos decoded at once

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Create the session, warm it up, create the teacher when some category is its, start the workers (no-op
        without a model folder).

        Raises:
            MissingModelError: the model folder is missing or incomplete, or ``teacher_categories`` names
                categories and the teacher's models are not installed (the message says to run ``tryon setup``).
        """
        if self.settings.model_dir is None:
            self.message = "no model folder configured (--model-dir / TRYON_MODEL_DIR)"
            return
        from tryon.student_runner import StudentRunner

        s = self.settings
        try:
            self.model = await asyncio.to_thread(StudentRunner, s.model_dir, s.dtype, s.providers, s.intra_op_threads)
            if s.warmup:
                t0 = time.perf_counter()
                await asyncio.to_thread(self.model.warmup)
                log.info("warm-up step %.3f s", time.perf_counter() - t0)
            await asyncio.to_thread(self._load_teacher)
        except Exception as exc:
            self.state = "failed"
            self.message = getattr(exc, "message", str(exc))
            raise
        self._workers = [asyncio.create_task(self._worker(), name=f"tryon-worker-{i}") for i in range(s.workers)]
        self.state = "ready"

    async def stop(self) -> None:
        """Cancel the workers; jobs still queued are marked failed."""
        for t in self._workers:
            t.cancel()
        for t in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._workers = []
        while not self._queue.empty():
            job = self._queue.get_nowait()
            await self._fail(job, "ServiceUnavailable", "the server shut down before the job ran")

    def _load_teacher(self) -> None:
        """Blocking: create the teacher and its person analysers for ``settings.teacher_for(student categories)``.

        With ``teacher_categories=auto`` missing teacher models turn the teacher off (logged): the student alone
        dresses, as before the teacher was served. With named categories they stop the start-up.
        """
        from tryon.errors import MissingModelError
        from tryon.manifest import AUTO
        from tryon.teacher.gate_config import DEFAULT_MIN_CONFIDENCE
        from tryon.teacher.pipeline import Teacher

        categories = self.settings.teacher_for(self.model.categories)
        if not categories:
            return
        # Gated as `tryon run` gates it: a result below the confidence fails its job (LowConfidenceError).
        teacher = Teacher(min_confidence=DEFAULT_MIN_CONFIDENCE, framer=self.model.framer)
        try:
            teacher.load()
        except MissingModelError as exc:
            if self.settings.teacher_categories != AUTO:
                raise MissingModelError(f"teacher_categories {self.settings.teacher_categories}: {exc.message}; "
                                        "or serve the student alone (--teacher-categories none)") from None
            log.warning("the teacher's models are not installed (%s): %s are not dressed here (run `tryon setup`)",
                        exc.message, ", ".join(categories))
            return
        self.teacher, self.teacher_categories = teacher, categories
        log.info("the teacher dresses %s", ", ".join(categories))

    @property
    def categories(self) -> tuple[str, ...]:
        """Every garment category this server dresses (FASHN's names): the student's and the teacher's."""
        if self.model is None:
            return ()
        return tuple(dict.fromkeys((*self.model.categories, *self.teacher_categories)))

    def engine_for(self, category: str) -> str | None:
        """``"teacher"`` or ``"student"`` for a category (FASHN's name) this server dresses, else None."""
        if category in self.teacher_categories:
            return "teacher"
        return "student" if self.model is not None and category in self.model.categories else None

    def model_file_problems(self) -> list[str]:
        """The loaded model's files (the student file in use, the framing models, the live-mode graphs and the garment
        segmenter the widget fetches) that are missing or altered now (blocking: may hash a changed file)."""
        from tryon.server.integrity import INTEGRITY

        if self.model is None:
            return []
        m = self.model.manifest
        in_use = [f for f in m.files if f.dtype == self.model.dtype]
        return INTEGRITY.problems(self.settings.model_dir, [*in_use, *m.framing_files, *m.live_files,
                                                                 *m.garment_mask_files])

    @property
    def queue_depth(self) -> int:
        """Jobs waiting for a worker."""
        return self._depth

    @property
    def model_name(self) -> str:
        return self.model.manifest.name if self.model is not None else ""

    # ------------------------------------------------------------------ submission
    def check_room(self) -> None:
        """Refuse early, before a request's photos are decoded, when no job could be queued.

        Raises:
            NotReadyError: no model loaded.
            QueueFullError: ``queue_size`` jobs are waiting already.
        """
        if self.state != "ready":
            raise NotReadyError(self.message or f"the model is {self.state}")
        if self._depth >= self.settings.queue_size:
            per_worker = self._depth * self._predict_ema / self.settings.workers
            raise QueueFullError(max(1, min(60, math.ceil(per_worker))))

    async def submit(self, person: np.ndarray, garment: np.ndarray, options: RunOptions,
                     outfit: list[tuple[np.ndarray, str]] | None = None) -> Job:
        """Queue a job and write its ``in_queue`` record.

        Args:
            person: (H, W, 3) uint8 RGB person photo.
            garment: (Hg, Wg, 3) uint8 RGB garment photo (an outfit's first).
            options: the request's options.
            outfit: an outfit's garments and their categories (:func:`tryon.teacher.outfit.dress_outfit` runs
                the student once per garment, in ``options.tuck``'s order); None for one garment.

        Raises:
            NotReadyError: no model loaded.
            QueueFullError: ``queue_size`` jobs are waiting already.
        """
        self.check_room()
        self._depth += 1  # reserve the slot before any await, so concurrent submits cannot overfill
        job = Job(id=uuid.uuid4().hex, person=person, garment=garment, options=options, outfit=outfit)
        try:
            record = JobStatus(id=job.id, status="in_queue", model_name=self.model_name, created_at=job.created_at)
            await self.store.put(record.model_dump(mode="json"))
        except BaseException:
            self._depth -= 1
            raise
        self._queue.put_nowait(job)
        return job

    # ------------------------------------------------------------------ workers
    async def _worker(self) -> None:
        s = self.settings
        while True:
            first = await self._queue.get()
            batch = [first]
            deadline = time.monotonic() + s.batch_wait_ms / 1000.0
            # Poll instead of wait_for(queue.get()): a timed-out get may drop an item on Python 3.11.
            while len(batch) < s.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                    continue
                except asyncio.QueueEmpty:
                    pass
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                await asyncio.sleep(min(remaining, 0.002))
            self._depth -= len(batch)
            try:
                await self._process(batch)
            except Exception:  # never let one bad batch kill the worker
                log.exception("batch failed")
                for job in batch:
                    if not job.done.is_set():
                        await self._fail(job, "InternalServerError", "the server failed while running the job")

    async def _process(self, batch: list[Job]) -> None:
        now = time.time()
        runnable: list[Job] = []
        for job in batch:
            if now - job.created_at > self.settings.job_timeout_s:
                await self._fail(job, "TimeoutError",
                                 f"the job waited more than {self.settings.job_timeout_s:g} s in the queue")
                continue
            if not await self._store_update(job, status="processing",
                                            metrics={"queue_time": round(now - job.created_at, 4),
                                                     "predict_time": None}):
                self._release(job)  # its record cannot be written: running it would produce a lost result
                continue
            runnable.append(job)
        if not runnable:
            return
        results = await asyncio.to_thread(self._run_batch, runnable)
        for job, (output, error, predict_time) in zip(runnable, results, strict=True):
            metrics = {"queue_time": round(now - job.created_at, 4), "predict_time": round(predict_time, 4)}
            self._predict_ema = 0.8 * self._predict_ema + 0.2 * predict_time
            if error is None:
                # Named after what dressed it: the teacher, the student, or both for a mixed outfit.
                await self._store_update(job, status="completed", output=[output], metrics=metrics,
                                         model_name="+".join(job.engines) or self.model_name)
            else:
                await self._store_update(job, status="failed", error=error, metrics=metrics)
            self._release(job)

    def _run_batch(self, jobs: list[Job]) -> list[tuple[EncodedResult | None, dict[str, str] | None, float]]:
        """Blocking: prepare, run and paste back each job. Returns (encoded result, error, seconds) per job.

        A job's seconds are its own work: its preparation, its share of the model step(s) and its paste-back and
        encoding, not the time since the batch began (that overstated ``predict_time`` and ``Retry-After``).
        """
        from tryon.server.pipeline import encode_image

        spent = [0.0] * len(jobs)
        out: list[tuple[EncodedResult | None, dict[str, str] | None, float]] = [(None, None, 0.0)] * len(jobs)
        prepared: dict[int, Any] = {}
        for i, job in enumerate(jobs):
            t = time.perf_counter()
            try:
                if job.outfit is not None:  # one step per garment, each on the previous one's output
                    image = self._dress_outfit(job)
                else:
                    # The teacher's categories: the teacher, at the photo's resolution (not batched: it has no
                    # model step to share); `auto` is the student's to check and classify first.
                    teacher = self._named_for_teacher(job)
                    if teacher is None:
                        try:
                            prepared[i] = self.model.prepare(job.person, job.garment, None, job.options.category)
                            spent[i] += time.perf_counter() - t
                            continue
                        except UnsupportedCategoryError:
                            teacher = self._classified_for_teacher(job)
                            if teacher is None:
                                raise
                    image = self._run_teacher(job.person, job.garment, *teacher, job.options.tuck).tryon
                    job.ran("teacher")
                out[i] = (encode_image(image, job.options.output_format), None, time.perf_counter() - t)
            except Exception as exc:
                out[i] = (None, _error_info(exc), time.perf_counter() - t)
        idx = list(prepared)
        t = time.perf_counter()
        try:
            model_outs = self.model.run([prepared[i].feeds for i in idx]) if idx else []
        except Exception as exc:
            err = _error_info(exc)
            for i in idx:
                out[i] = (None, err, spent[i])
            return out
        share = (time.perf_counter() - t) / max(1, len(idx))
        for i, mo in zip(idx, model_outs, strict=True):
            t = time.perf_counter()
            try:
                p = prepared[i]
                image = self._student_else_teacher(jobs[i], lambda p=p, mo=mo: self.model.finish(p, mo),
                                                   jobs[i].person, jobs[i].garment, p.garment_mask,
                                                   p.garment_info.category, jobs[i].options.tuck).tryon
                data = encode_image(image, jobs[i].options.output_format)
                out[i] = (data, None, spent[i] + share + time.perf_counter() - t)
            except Exception as exc:
                out[i] = (None, _error_info(exc), spent[i] + share + time.perf_counter() - t)
        return out

    def _named_for_teacher(self, job: Job) -> tuple[np.ndarray, str] | None:
        """Blocking: (garment mask, category) when the job names a category the teacher dresses (or sends ``auto``
        while the teacher takes over one of the student's categories, and the garment is of one of the teacher's),
        else None.

        Raises:
            PhotoTypeError: the garment photo shows a person (checked as the student runner checks it).
            BusyBackgroundError: the garment photo has no plain background.
        """
        from tryon.garment.category import normalise_category
        from tryon.garment.mask import garment_mask

        named = normalise_category(job.options.category)
        taken_over = set(self.teacher_categories) & set(self.model.categories)
        if named not in self.teacher_categories and not (named == "auto" and taken_over):
            return None
        if self.model.framer is not None:
            from tryon.framing import refuse_person_as_garment

            refuse_person_as_garment(self.model.framer, job.garment, job.person)
        if named == "auto":
            return self._classified_for_teacher(job)
        return garment_mask(job.garment), named

    def _classified_for_teacher(self, job: Job) -> tuple[np.ndarray, str] | None:
        """Blocking: (garment mask, category) for an ``auto`` garment the student refused whose category the
        teacher dresses (:func:`tryon.garment.category.classify_garment`, as the student runner classified it),
        else None (the student's refusal stands: a category nobody here dresses, or one the classifier cannot
        tell)."""
        from tryon.garment.category import UNCERTAIN, classify_garment, fashn_category, normalise_category
        from tryon.garment.mask import garment_mask

        if not self.teacher_categories or normalise_category(job.options.category) != "auto":
            return None
        mask = garment_mask(job.garment)
        info = classify_garment(job.garment, mask)
        category = fashn_category(info)
        return (mask, category) if info.category != UNCERTAIN and category in self.teacher_categories else None

    def _student_else_teacher(self, job: Job, student, person: np.ndarray, garment: np.ndarray,
                              mask: np.ndarray | None, category: str, tuck: str) -> Any:
        """Blocking: ``student()``'s result; when the student's output gate refuses it (LowConfidenceError) and a
        teacher is loaded, the teacher's for the same photos, slower but better on shoppers' photos (its own gate
        may refuse it too). Records on ``job`` which one dressed it. Raises what either raises."""
        try:
            result = student()
        except LowConfidenceError:
            if self.teacher is None:
                raise
            job.ran("teacher")
            return self._run_teacher(person, garment, mask, category, tuck)
        job.ran(self.model_name)
        return result

    def _run_teacher(self, person: np.ndarray, garment: np.ndarray, mask: np.ndarray | None, category: str,
                     tuck: str) -> Any:
        """Blocking: the teacher's :class:`tryon.teacher.pipeline.TeacherResult` (one run at a time; raises what
        :meth:`tryon.teacher.pipeline.Teacher.run` raises: PoseError, LowConfidenceError, NoPersonError...)."""
        with self._teacher_lock:
            return self.teacher.run(person, garment, garment_mask=mask, category=category, tuck=tuck)

    def _dress_outfit(self, job: Job) -> np.ndarray:
        """Blocking: an outfit job's result, (H, W, 3) uint8 RGB (raises what the outfit's plan or a step raises).
        Each garment goes to the engine of its category (:meth:`engine_for`)."""
        from tryon.teacher.outfit import OutfitGarment, dress_outfit

        garments = [OutfitGarment(image, None, category, f"garments[{k}]")
                    for k, (image, category) in enumerate(job.outfit or [])]

        def dresser(person, image, mask, category, tuck=job.options.tuck):
            if self.engine_for(category) == "teacher":
                job.ran("teacher")
                return self._run_teacher(person, image, mask, category, tuck)
            # The mask is the runner's to cut (cached by pixels): it also checks the photo is not of a person.
            return self._student_else_teacher(job, lambda: self.model(person, image, category), person, image, mask,
                                              category, tuck)

        return dress_outfit(job.person, garments, job.options.tuck, dresser=dresser, categories=self.categories).tryon

    async def _store_update(self, job: Job, **fields: Any) -> bool:
        """Write a job's status; a job store that fails (Redis down) costs that record, never the worker."""
        try:
            await self.store.update(job.id, **fields)
            return True
        except Exception as exc:
            log.warning("job %s: the %s job store failed (%s); the record is lost", job.id, self.store.kind,
                        type(exc).__name__)
            return False

    async def _fail(self, job: Job, name: str, message: str) -> None:
        await self._store_update(job, status="failed", error={"name": name, "message": message})
        self._release(job)

    def _release(self, job: Job) -> None:
        # Drop the photos as soon as the job is over: only the result stays (in the store, for its TTL).
        job.person = job.garment = np.empty((0, 0, 3), np.uint8)
        job.outfit = None
        job.done.set()


def _error_info(exc: BaseException) -> dict[str, str]:
    if isinstance(exc, TryonError):
        return {"name": exc.name, "message": exc.message}
    log.error("pipeline error", exc_info=exc)
    return {"name": "PipelineError", "message": f"the try-on pipeline failed ({type(exc).__name__})"}
