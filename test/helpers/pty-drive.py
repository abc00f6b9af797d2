"""Drive a command through a real pseudo-terminal, like a person at a keyboard.

Usage: python3 pty-drive.py '<json>' where json = {"argv": [...], "cwd": "...", "steps": [[regex, keys], ...], "timeout": s}
Waits for each regex in the screen output (ANSI codes stripped), then types its keys.
Prints {"code": exit code, "output": all output} as JSON.
"""
import json, os, pty, re, select, sys, time

spec = json.loads(sys.argv[1])
ansi = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][AB012]|\r")
pid, fd = pty.fork()
if pid == 0:
    os.chdir(spec["cwd"])
    env = dict(os.environ, **spec.get("env", {}))
    env.pop("CI", None)
    os.execvpe(spec["argv"][0], spec["argv"], env)

raw = b""
deadline = time.time() + spec.get("timeout", 60)

def read_some(wait):
    global raw
    r, _, _ = select.select([fd], [], [], wait)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        raw += chunk
    return True

def screen():
    return ansi.sub("", raw.decode("utf8", "replace"))

seen = 0
for pattern, keys in spec["steps"]:
    rx = re.compile(pattern)
    while True:
        m = rx.search(screen(), seen)
        if m:
            seen = m.end()
            break
        if time.time() > deadline or not read_some(0.1):
            print(json.dumps({"code": None, "output": screen(), "waiting_for": pattern}))
            sys.exit(0)
    time.sleep(0.15)
    os.write(fd, keys.encode())

while time.time() < deadline and read_some(0.2):
    pass
_, status = os.waitpid(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "output": screen()}))
