"""Scanning files: text, CSV/TSV, Excel, Word and PDF, streamed, large files in chunks, several files at
once in worker processes.

Running text (txt, docx, pdf) goes through the analyzer a chunk at a time (about a million characters,
cut at a line end). Tables (csv, tsv, xlsx) are classified column by column from the header and a
sample of the rows (`columns.classify`); the rest of a large table is not read.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from mamoru.scan.analyzer import Analyzer
from mamoru.scan.columns import classify, to_location
from mamoru.scan.mask import mask
from mamoru.scan.recognizers.health_insurance import card_columns
from mamoru.scan.report import NO_DISMISSALS, Dismissals, Location, Occurrence, ScanResult, explain

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".log", ".eml", ".json", ".xml", ".html", ".htm"})
TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".xlsx"})
DOC_SUFFIXES = frozenset({".docx", ".pdf"})
SUPPORTED = TEXT_SUFFIXES | TABLE_SUFFIXES | DOC_SUFFIXES
CHUNK_CHARS = 1_000_000
SAMPLE_ROWS = 200

Progress = Callable[[str, int], None]  # (path, bytes) after each file
Found = Callable[[list[Location]], None]  # a file's locations, as soon as it is scanned


def list_files(paths: Iterable[Path]) -> list[Path]:
    """The supported files under ``paths`` (files as given; folders walked, hidden entries skipped)."""
    out: list[Path] = []
    for p in paths:
        if p.is_file():
            out.append(p)
            continue
        for root, dirs, names in os.walk(p):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            out.extend(
                Path(root) / n
                for n in sorted(names)
                if not n.startswith(".") and Path(n).suffix.lower() in SUPPORTED
            )
    return out


def _encoding(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(65536)
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            try:
                head.decode("cp932")
                return "cp932"
            except UnicodeDecodeError:
                return "utf-8"
    return "utf-8"


def text_chunks(path: Path) -> Iterator[str]:
    """A text file a chunk at a time, each cut at a line end so that no value is split."""
    suffix = path.suffix.lower()
    if suffix == ".docx":
        yield from _docx_chunks(path)
        return
    if suffix == ".pdf":
        yield from _pdf_chunks(path)
        return
    with path.open("r", encoding=_encoding(path), errors="replace", newline="") as fh:
        carry = ""
        while True:
            block = fh.read(CHUNK_CHARS)
            if not block:
                break
            block = carry + block
            cut = block.rfind("\n")
            if cut < 0:
                carry = block if len(block) < 4 * CHUNK_CHARS else ""
                if not carry:
                    yield block
                continue
            carry = block[cut + 1 :]
            yield block[: cut + 1]
        if carry:
            yield carry


def _docx_chunks(path: Path) -> Iterator[str]:
    from docx import Document

    doc = Document(str(path))
    buf: list[str] = []
    size = 0
    for para in doc.paragraphs:
        buf.append(para.text)
        size += len(para.text)
        if size > CHUNK_CHARS:
            yield "\n".join(buf)
            buf, size = [], 0
    for table in doc.tables:
        for row in table.rows:
            line = "\t".join(cell.text for cell in row.cells)
            buf.append(line)
            size += len(line)
        if size > CHUNK_CHARS:
            yield "\n".join(buf)
            buf, size = [], 0
    if buf:
        yield "\n".join(buf)


def _pdf_chunks(path: Path) -> Iterator[str]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    for page in reader.pages:
        yield page.extract_text() or ""


def tables(
    path: Path, sample_rows: int = SAMPLE_ROWS
) -> Iterator[tuple[str, list[str], list[list[str | None]]]]:
    """Each table of a CSV/TSV/Excel file: (name, header, up to ``sample_rows`` rows)."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(str(path), read_only=True, data_only=True)
        try:
            for ws in wb.worksheets:
                rows = ws.iter_rows(values_only=True)
                header: list[str] | None = None
                sample: list[list[str | None]] = []
                for row in rows:
                    cells = [None if v is None else str(v) for v in row]
                    if header is None:
                        if any(c for c in cells):
                            header = [c or "" for c in cells]
                        continue
                    sample.append(cells)
                    if len(sample) >= sample_rows:
                        break
                if header is not None:
                    yield ws.title, header, sample
        finally:
            wb.close()
        return
    with path.open("r", encoding=_encoding(path), errors="replace", newline="") as fh:
        head = fh.read(8192)
        fh.seek(0)
        delimiter = "\t" if suffix == ".tsv" or head.count("\t") > head.count(",") else ","
        reader = csv.reader(fh, delimiter=delimiter)
        header_row = next(reader, None)
        if header_row is None:
            return
        sample = []
        for row in reader:
            sample.append(list(row))
            if len(sample) >= sample_rows:
                break
        yield "", header_row, list(sample)


def scan_file(
    path: Path, analyzer: Analyzer, sample_rows: int = SAMPLE_ROWS, dismissals: Dismissals = NO_DISMISSALS
) -> list[Location]:
    """The locations with findings in one file (none if it holds nothing personal); a value the office
    marked not personal at this place is left out."""
    where = str(path)
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        found: list[Location] = []
        for name, header, rows in tables(path, sample_rows):
            read_as = card_columns(header)  # 記号 and 番号 beside 保険者番号 are a card's symbol and number
            for i, title in enumerate(header):
                column = [row[i] if i < len(row) else None for row in rows]
                cls = classify(analyzer, read_as[i] or f"column {i + 1}", column, dismissals, where)
                if not cls.cells:
                    continue
                label = f"{name}!{title}" if name else title
                loc = to_location(
                    cls,
                    kind="file_column",
                    where=f"{where}#{label}",
                    container=where,
                    column=label,
                    rows=len(rows),
                )
                found.append(loc)
        return found
    loc = Location(kind="file", where=where, container=where)
    line = 1  # the line at the start of the chunk
    for chunk in text_chunks(path):
        at, at_line = 0, line
        for f in analyzer.analyze(chunk):  # sorted by start: count the line breaks once
            at_line += chunk.count("\n", at, f.start)
            at = f.start
            fingerprint = dismissals.fingerprint(f.entity, where, chunk[f.start : f.end])
            if dismissals.dismissed(fingerprint):
                continue
            masked = mask(chunk[f.start : f.end])
            loc.hit(f.entity).add(masked, f.score)
            e = f.explanation
            loc.note(
                Occurrence(
                    f.entity,
                    masked,
                    f.score,
                    f.recognizer,
                    explain(e.pattern, e.validation, e.context_word, e.negative_word),
                    line=at_line,
                    fingerprint=fingerprint,
                )
            )
        line += chunk.count("\n")
    return [loc] if loc.hits else []


# --- several files in worker processes -----------------------------------------------------------

_worker_analyzer: Analyzer | None = None
_worker_dismissals: Dismissals = NO_DISMISSALS


def _init_worker(dismissals: Dismissals = NO_DISMISSALS) -> None:
    global _worker_analyzer, _worker_dismissals
    _worker_analyzer = Analyzer()
    _worker_dismissals = dismissals


def _scan_one(path: str, sample_rows: int) -> tuple[str, list[Location], int, str | None]:
    analyzer = _worker_analyzer or Analyzer()
    p = Path(path)
    try:
        size = p.stat().st_size
        return path, scan_file(p, analyzer, sample_rows, _worker_dismissals), size, None
    except Exception as exc:  # a broken file is reported by name and kind, never with its content
        return path, [], 0, f"{path}: could not be read ({type(exc).__name__})"


def scan_paths(
    paths: Iterable[Path],
    *,
    workers: int | None = None,
    sample_rows: int = SAMPLE_ROWS,
    progress: Progress | None = None,
    target: str | None = None,
    found: Found | None = None,
    dismissals: Dismissals = NO_DISMISSALS,
) -> ScanResult:
    files = list_files(paths)
    result = ScanResult(target_kind="files", target=target or ", ".join(str(p) for p in paths))
    workers = max(1, min(workers or (os.cpu_count() or 1), len(files) or 1))

    def record(path: str, locations: list[Location], size: int, error: str | None) -> None:
        result.files_scanned += 1
        result.bytes_scanned += size
        result.locations.extend(locations)
        if error:
            result.errors.append(error)
        if found is not None and locations:
            found(locations)
        if progress is not None:
            progress(path, size)

    if workers == 1:
        _init_worker(dismissals)
        for f in files:
            record(*_scan_one(str(f), sample_rows))
    else:
        if multiprocessing.get_start_method() == "fork":
            Analyzer().warm()  # the SudachiPy dictionary, loaded once here and shared by the forked workers
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_init_worker, initargs=(dismissals,)
        ) as pool:
            futures = [pool.submit(_scan_one, str(f), sample_rows) for f in files]
            try:
                for fut in as_completed(futures):
                    record(*fut.result())
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise
    result.locations.sort(key=lambda loc: loc.where)
    return result
