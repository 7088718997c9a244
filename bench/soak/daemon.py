"""The daemon under soak: one xenbox (sim backend) on loopback, started,
killed with SIGKILL and restarted on the same state directory and port,
and sampled from /proc."""
import os
import signal
import socket
import subprocess
import time

PASSWORD = "soak-s3cret"

# The host build is ASan+UBSan.  A small quarantine keeps ASan's own RSS
# from growing for minutes (its default holds 256 MiB of freed memory),
# which would read as a leak; leaks are reported at the clean stop.
ASAN_OPTIONS = "detect_leaks=1:abort_on_error=0:quarantine_size_mb=16"


def set_password(xenbox, state):
    os.makedirs(state, exist_ok=True)
    subprocess.run([xenbox, "passwd", "--state-dir", state], input=PASSWORD + "\n",
                   text=True, check=True, capture_output=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_status(pid, key):
    """VmRSS:, VmHWM: ... in KiB, or None when the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


class Daemon:
    def __init__(self, xenbox, state, sim_opts="shutdown_delay=200"):
        self.xenbox = xenbox
        self.state = state
        self.sim_opts = sim_opts
        self.port = free_port()
        self.unix = os.path.join(state, "xapi.sock")
        self.log = os.path.join(state, "daemon.log")
        self.proc = None
        self.killed = False         # we sent the SIGKILL that ended it

    def start(self, timeout=60):
        """Starts and waits until the port accepts; returns the seconds it took."""
        t0 = time.monotonic()
        with open(self.log, "a") as logf:
            logf.write("==== soak: start at %s\n" % time.strftime("%H:%M:%S"))
            logf.flush()
            env = dict(os.environ, ASAN_OPTIONS=ASAN_OPTIONS,
                       UBSAN_OPTIONS="print_stacktrace=1")
            self.proc = subprocess.Popen(
                [self.xenbox, "daemon", "--state-dir", self.state, "--backend", "sim",
                 "--http", "127.0.0.1:%d" % self.port, "--https", "", "--unix", self.unix,
                 "--sim-opts", self.sim_opts],
                stdout=logf, stderr=subprocess.STDOUT, env=env)
        self.killed = False
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError("daemon exited at start (rc %s); log: %s"
                                   % (self.proc.returncode, self.log))
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return time.monotonic() - t0
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("daemon did not listen within %d s; log: %s" % (timeout, self.log))

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def exited(self):
        """The exit status if the process has ended, else None."""
        return self.proc.poll() if self.proc else None

    def kill9(self):
        self.killed = True
        try:
            self.proc.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def stop(self, timeout=60):
        """SIGTERM; the exit status (a sanitizer's report at exit shows here)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
                return "did not stop within %d s of SIGTERM" % timeout
        return self.proc.returncode

    # --lose-last, a check of the soak itself: the database is put back to
    # an earlier copy between a kill and the restart.

    def snapshot_db(self):
        """A consistent copy of the live database (SQLite's backup API reads
        it as any reader of a WAL database does)."""
        import sqlite3
        path = os.path.join(self.state, "xenbox.db.soak-copy")
        src = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.state, "xenbox.db"),
                              uri=True)
        dst = sqlite3.connect(path)
        src.backup(dst)
        dst.close()
        src.close()
        return path

    def restore_db(self, copy):
        db = os.path.join(self.state, "xenbox.db")
        for tail in ("-wal", "-shm"):
            if os.path.exists(db + tail):
                os.unlink(db + tail)
        os.replace(copy, db)

    def sample(self):
        pid = self.pid
        return {"rss": proc_status(pid, "VmRSS:"), "hwm": proc_status(pid, "VmHWM:"),
                "fds": proc_fds(pid)}

    def log_findings(self):
        """Sanitizer and error lines of the daemon's log (all its lives)."""
        found = {"AddressSanitizer": [], "LeakSanitizer": [], "runtime error": [],
                 "error:": []}
        try:
            with open(self.log, errors="replace") as f:
                for line in f:
                    for k, v in found.items():
                        hit = line.startswith(k) if k == "error:" else k in line
                        if hit and len(v) < 1000:
                            v.append(line.rstrip())
        except OSError:
            pass
        return found
