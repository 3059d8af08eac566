"""Headless Chromium over the Chrome DevTools Protocol (pipe transport).

:class:`HeadlessChromium` drives a local headless Chromium on a pipe
(standard library only, no driver and no network), to take the report's
``--screenshot`` and to let the tests check the page in a real browser.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = [
    "HeadlessChromium",
    "ReportBrowserError",
    "find_chromium",
    "screenshot_report",
]

_CHROMIUM_CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
)
_INSTALL_HINT = (
    "install it with `make browser` (runs scripts/install_browser.sh, which "
    "needs root and apt: `apt-get install -y chromium`), or set CV_CHROMIUM "
    "to a Chromium/Chrome binary"
)


class ReportBrowserError(RuntimeError):
    """Chromium is missing, failed to start, or did not answer in time."""


def find_chromium() -> str | None:
    """Return a Chromium/Chrome binary: ``$CV_CHROMIUM``, else a usual path.

    Returns
    -------
    str or None
        The path of an executable, or None when none is installed.
    """
    candidates = [os.environ.get("CV_CHROMIUM", "")]
    candidates += list(_CHROMIUM_CANDIDATES)
    candidates += [shutil.which(n) or "" for n in ("chromium", "google-chrome")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


class HeadlessChromium:
    """A headless Chromium page driven over the DevTools protocol on a pipe.

    Chromium runs with ``--remote-debugging-pipe``: it reads commands on file
    descriptor 3 and writes replies and events on 4, as NUL-terminated JSON.
    Only the standard library is needed (no chromedriver, no websocket, no
    network port). Console errors, uncaught exceptions, log errors and every
    request to a URL that is not ``file:``, ``data:`` or ``about:`` are
    collected while the page is open.

    Parameters
    ----------
    binary : str, optional
        Chromium executable; default :func:`find_chromium`.
    width, height : int, default 1200 x 900
        Viewport size in CSS pixels.
    timeout : float, default 60
        Seconds to wait for any one answer from the browser.

    Raises
    ------
    ReportBrowserError
        When no Chromium is installed (the message says how to install it).

    Examples
    --------
    >>> with HeadlessChromium() as browser:  # doctest: +SKIP
    ...     browser.open("reports/customer_value.html")
    ...     browser.screenshot("reports/customer_value.png")
    """

    FLAGS = (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--hide-scrollbars",
        "--mute-audio",
        "--remote-debugging-pipe",
    )

    def __init__(
        self,
        binary: str | None = None,
        width: int = 1200,
        height: int = 900,
        timeout: float = 60.0,
    ) -> None:
        found = binary or find_chromium()
        if not found:
            raise ReportBrowserError(f"Chromium not found: {_INSTALL_HINT}")
        self.binary = found
        self.width = width
        self.height = height
        self.timeout = timeout
        self.console_errors: list[str] = []
        self.external_requests: list[str] = []
        self._events: list[dict[str, Any]] = []
        self._buffer = b""
        self._next_id = 0
        self._pid: int | None = None
        self._write_fd: int | None = None
        self._read_fd: int | None = None
        self._session: str | None = None
        self._profile: str | None = None
        self._log: Any = None

    # -- process -----------------------------------------------------------

    def __enter__(self) -> HeadlessChromium:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Start Chromium with a fresh profile and open one blank page."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        import fcntl  # POSIX only; imported here so the report renders anywhere

        self._profile = tempfile.mkdtemp(prefix="cv-chromium-")
        commands_r, commands_w = os.pipe()  # we write, Chromium reads fd 3
        replies_r, replies_w = os.pipe()  # Chromium writes fd 4, we read
        # Keep the child's ends above 4, so mapping them onto 3 and 4 never
        # overwrites one with the other.
        child_r = fcntl.fcntl(commands_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(replies_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(commands_r)
        os.close(replies_w)
        self._write_fd = commands_w
        self._read_fd = replies_r
        self._log = tempfile.TemporaryFile()
        argv = [
            self.binary,
            *self.FLAGS,
            f"--user-data-dir={self._profile}",
            f"--window-size={self.width},{self.height}",
            "about:blank",
        ]
        try:
            self._pid = os.posix_spawn(
                self.binary,
                argv,
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, self._log.fileno(), 1),
                    (os.POSIX_SPAWN_DUP2, self._log.fileno(), 2),
                    (os.POSIX_SPAWN_DUP2, child_r, 3),
                    (os.POSIX_SPAWN_DUP2, child_w, 4),
                ],
                setsid=True,
            )
        finally:
            os.close(child_r)
            os.close(child_w)
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._send(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self._set_viewport_height(self.height)

    def _set_viewport_height(self, height: int) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": self.width,
                "height": height,
                "deviceScaleFactor": 1,
                "mobile": False,
            },
        )

    def close(self) -> None:
        """Stop Chromium and remove its profile."""
        if self._pid is not None:
            try:
                self._send("Browser.close", timeout=5)
            except (ReportBrowserError, OSError):
                pass
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    if os.waitpid(self._pid, os.WNOHANG) != (0, 0):
                        break
                except ChildProcessError:  # already reaped
                    break
                time.sleep(0.05)
            else:
                try:  # the process group of the browser we started (setsid)
                    os.killpg(self._pid, signal.SIGKILL)
                    os.waitpid(self._pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
            self._pid = None
        for fd in (self._write_fd, self._read_fd):
            if fd is not None:
                os.close(fd)
        self._write_fd = self._read_fd = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    # -- protocol ----------------------------------------------------------

    def _send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method}
        if params:
            message["params"] = params
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._write_fd, data) :]
        except OSError as error:  # the browser has gone away
            raise ReportBrowserError(f"{method}: {error}{self._log_tail()}") from error
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._receive(deadline, method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise ReportBrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._on_event(reply)

    def _receive(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read_fd], [], [], left)[0]:
                raise ReportBrowserError(
                    f"Chromium did not answer {waiting_for} in time{self._log_tail()}"
                )
            chunk = os.read(self._read_fd, 1 << 20)
            if not chunk:
                raise ReportBrowserError(f"Chromium exited{self._log_tail()}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _log_tail(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        tail = self._log.read().decode(errors="replace").strip().splitlines()[-5:]
        return (": " + " | ".join(tail)) if tail else ""

    def _on_event(self, event: dict[str, Any]) -> None:
        method = event.get("method", "")
        params = event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in (
            "error",
            "assert",
        ):
            text = " ".join(
                str(a.get("value", a.get("description", ""))) for a in params["args"]
            )
            self.console_errors.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            exception = details.get("exception", {})
            self.console_errors.append(
                "uncaught: " + str(exception.get("description", details.get("text")))
            )
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.console_errors.append("log: " + params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if not url.startswith(("file:", "data:", "about:", "blob:")):
                self.external_requests.append(url)
        self._events.append(event)

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a DevTools command to the page and return its result.

        Parameters
        ----------
        method : str
            Protocol method, e.g. ``"Page.navigate"``.
        params : dict, optional
            Its parameters.

        Returns
        -------
        dict
            The command's result.
        """
        return self._send(method, params, session=self._session)

    def _drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                self._on_event(self._receive(deadline, "events"))
            except ReportBrowserError:
                return

    def evaluate(self, expression: str) -> Any:
        """Evaluate a JavaScript expression in the page and return its value.

        Parameters
        ----------
        expression : str
            JavaScript; a promise is awaited.

        Returns
        -------
        Any
            The JSON value of the result.
        """
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise ReportBrowserError(f"JavaScript error: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def open(self, path: str | os.PathLike[str], settle: float = 0.5) -> None:
        """Load a local file and wait until it and its charts have rendered.

        Parameters
        ----------
        path : str or path-like
            The HTML file.
        settle : float, default 0.5
            Extra seconds to let late events (console errors) arrive.
        """
        url = Path(path).resolve().as_uri()
        self._events.clear()
        self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            self._on_event(self._receive(deadline, "Page.loadEventFired"))
        # Plotly draws each chart right after its <div>; wait until every
        # chart container holds its SVG, or give up at the deadline.
        while time.monotonic() < deadline:
            pending = self.evaluate(
                "Array.from(document.querySelectorAll('.chart')).filter("
                "c => !c.querySelector('svg.main-svg')).length"
            )
            if not pending:
                break
            self._drain(0.2)
        self._drain(settle)

    def screenshot(
        self, png_path: str | os.PathLike[str], full_page: bool = True
    ) -> Path:
        """Save a PNG of the page (the whole page by default).

        Parameters
        ----------
        png_path : str or path-like
            Output file; parent folders are created.
        full_page : bool, default True
            Capture the full scroll height, not only the viewport.

        Returns
        -------
        pathlib.Path
            The PNG written.
        """
        height = self.height
        if full_page:
            height = int(self.evaluate("document.documentElement.scrollHeight"))
            self._set_viewport_height(height)
            self._drain(0.5)  # let responsive charts settle at the new size
        data = self.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": full_page},
        )["data"]
        out = Path(png_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(data))
        if full_page:
            self._set_viewport_height(self.height)
        return out


def screenshot_report(
    html_path: str | os.PathLike[str],
    png_path: str | os.PathLike[str] | None = None,
    width: int = 1200,
) -> Path:
    """Open a rendered report in headless Chromium and save a full-page PNG.

    Parameters
    ----------
    html_path : str or path-like
        The report written by :func:`render_report`.
    png_path : str or path-like, optional
        Output PNG; default: ``html_path`` with the suffix ``.png``.
    width : int, default 1200
        Page width in CSS pixels.

    Returns
    -------
    pathlib.Path
        The PNG written.

    Raises
    ------
    ReportBrowserError
        If Chromium is not installed or the page shows JavaScript errors.
    """
    png = Path(png_path) if png_path else Path(html_path).with_suffix(".png")
    with HeadlessChromium(width=width) as browser:
        browser.open(html_path)
        browser.screenshot(png)
        if browser.console_errors:
            raise ReportBrowserError(
                "the page logged errors: " + "; ".join(browser.console_errors)
            )
    return png
