"""Whoosh's multi-process writer, watched: a sub-writer that dies fails the build, never hangs it.

Whoosh's `MpWriter` hands batches of documents to sub-writer processes through a bounded queue
and, at commit, waits for each of them. When one dies (killed by the kernel for memory, or
failing on a document), nothing notices: the parent blocks forever on the full queue or on
the queue's lock the dead process held, and a cancelled build leaves its sub-writers waiting
on the queue, so the command never exits. `WatchedMpWriter` waits in short steps and checks
its sub-writers between them; one that has died ends the build with `SubWriterDied` (the
caller cancels the writer, which stops the others), and a cancel terminates them and removes
the files of every segment they wrote, which the index never listed.

A sub-writer whose segment holds as many postings as its memory limit allows finishes it and
starts another (`SegmentWriter.full`), so a build of any size keeps each sub-writer within its
limit; the commit lists every segment of every sub-writer (the bulk build never merges them).
"""

from __future__ import annotations

import pickle
import queue
import time
from typing import Any

from whoosh.index import clean_files
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.util import random_name

from crawler.article import Article
from indexer.document import to_document
from indexer.whoosh.segment import SegmentWriter

_STEP = 0.5  # seconds between two looks at the sub-writers while waiting
_STOP_GRACE = 5.0  # seconds a sub-writer gets to exit after being told to, before it is killed
_DOCUMENT, _ARTICLE = 0, 1  # what a queued item holds: Whoosh's fields, or an article to enrich


class SubWriterDied(RuntimeError):
    """A sub-writer process of a bulk build exited before its work was done."""


class WatchedMpWriter(MpWriter):
    """`MpWriter` whose waits notice a dead sub-writer (see the module docstring), and whose
    sub-writers write their segments with `indexer.whoosh.segment.SegmentWriter`."""

    def _new_task(self) -> SubWriterTask:
        task = _SubWriterTask(
            self.storage,
            self.indexname,
            self.jobqueue,
            self.resultqueue,
            self.subargs,
            self.multisegment,
        )
        self.tasks.append(task)
        task.start()
        return task

    def add_article(
        self, article: Article, fetched_at: str | None, status: int | None, dup: str
    ) -> None:
        """Queues an article whose document a sub-writer makes (`to_document`, the enrichment
        included), with its near-duplicate group: the parent keeps only the work that must
        see every article in order (reading, fingerprints, groups), and the enrichment, a
        third of the parent's CPU, runs on every core."""
        self.docbuffer.append((_ARTICLE, (article, fetched_at, status, dup)))
        if len(self.docbuffer) >= self.batchsize:
            self._enqueue()
        self._added_sub = True

    def _enqueue(self) -> None:
        # As MpWriter._enqueue, with a put that checks the sub-writers while the queue is full.
        filename = f"{random_name()}.doclist"
        with self.temp_storage().create_file(filename).raw_file() as f:
            for item in self.docbuffer:
                pickle.dump(item, f, 2)
        if len(self.tasks) < self.procs:
            self._new_task()
        job = (filename, len(self.docbuffer))
        self.docbuffer = []
        self._put_watched(job)

    def _commit(self, mergetype: Any, optimize: Any, merge: Any) -> None:
        # As MpWriter._commit in its multisegment case: flush, tell every sub-writer to finish,
        # wait for them here, watching, then list the segments each returns (several each).
        if self.docbuffer:
            self._enqueue()
        for _ in self.tasks:
            self._put_watched(None)
        segments = self._merge_segments(mergetype, optimize, merge)
        while any(task.is_alive() for task in self.tasks):
            self._check_tasks()
            for task in self.tasks:
                task.join(_STEP / len(self.tasks))
        self._check_tasks()
        for _ in self.tasks:
            try:
                segments += self.resultqueue.get(timeout=_STOP_GRACE)
            except queue.Empty:
                raise SubWriterDied(
                    "a sub-writer process of the bulk build ended without its segments; "
                    "nothing was committed: run the command again"
                ) from None
        if self._added:  # documents added to this writer itself (not by the bulk build)
            segments.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(segments)
        self._finish()

    def cancel(self) -> None:
        """Stops the sub-writers (Whoosh only flags them in this process, where they never
        look), then discards what was written: the temporary files, and the segments the
        sub-writers wrote, finished or not (files of segments the last commit did not list)."""
        for task in self.tasks:
            if task.is_alive():
                task.terminate()
        deadline = time.monotonic() + _STOP_GRACE
        for task in self.tasks:
            task.join(max(0.0, deadline - time.monotonic()))
            if task.is_alive():
                task.kill()
                task.join()
        super().cancel()
        clean_files(self.storage, self.indexname, self.generation - 1, self.segments)

    def _put_watched(self, job: Any) -> None:
        while True:
            self._check_tasks()
            try:
                self.jobqueue.put(job, timeout=_STEP)
                return
            except queue.Full:
                continue

    def _check_tasks(self) -> None:
        for task in self.tasks:
            code = task.exitcode
            if code is not None and code != 0:
                how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
                raise SubWriterDied(
                    f"a sub-writer process of the bulk build {how} (out of memory?); "
                    "nothing was committed: run the command again"
                )


class _SubWriterTask(SubWriterTask):
    """Whoosh's sub-writer process with our segment writer; each writes segments of its own
    (the bulk build's writer is always `multisegment`), a new one whenever the last is full."""

    def run(self) -> None:
        # As SubWriterTask.run in its multisegment case, with the writer class replaced and
        # a list of segments returned.
        self.ix = self.storage.open_index(self.indexname)
        self.writer = SegmentWriter(self.ix, _lk=False, **self.kwargs)
        self.segments: list[Any] = []
        while self.running:
            job = self.jobqueue.get()
            if job is None:
                break
            self._process_file(*job)
        if not self.running:
            self.writer.cancel()
            return
        if self.writer._added:
            self.segments.append(self.writer._finalize_segment())
        else:  # the last segment was full just before the end: its files are cleaned at commit
            self.writer._close_segment()
        self.resultqueue.put(self.segments, timeout=5)

    def _process_file(self, filename: str, doc_count: int) -> None:
        # As SubWriterTask._process_file, with articles made into documents here.
        writer = self.writer
        storage = writer.temp_storage()
        with storage.open_file(filename).raw_file() as f:
            for _ in range(doc_count):
                code, args = pickle.load(f)
                if code == _ARTICLE:
                    article, fetched_at, status, dup = args
                    writer.add_document(**to_document(article, fetched_at, status), dup=dup)
                else:
                    writer.add_document(**args)
                if writer.full:
                    self.segments.append(writer._finalize_segment())
                    writer = self.writer = SegmentWriter(self.ix, _lk=False, **self.kwargs)
        storage.delete_file(filename)
