"""Drive a command through a real pseudo-terminal, like a person at a keyboard.

Usage: python3 pty-drive.py '<json>' where json = {"argv": [...], "cwd": "...", "steps": [[regex, keys], ...], "timeout": s}
Waits for each regex in the screen output (ANSI codes stripped), then types its keys. A step
[regex, {"choose": "text"}] moves a select menu's cursor (arrow keys) to the item containing
"text" and presses Enter.
Prints {"code": exit code, "output": all output, "screen": what the terminal shows at the end} as JSON:
"output" is every byte with the escape codes stripped (redrawn prompts appear once per redraw),
"screen" replays the cursor moves and erases like a terminal, scrollback included, and
"screens" holds that screen as it was when each step's pattern appeared (before its keys).
"""
import fcntl, json, os, pty, re, select, struct, sys, termios, time

spec = json.loads(sys.argv[1])
ansi = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][AB012]|\r")
pid, fd = pty.fork()
if pid == 0:
    os.chdir(spec["cwd"])
    env = dict(os.environ, **spec.get("env", {}))
    env.pop("CI", None)
    os.execvpe(spec["argv"][0], spec["argv"], env)

# A terminal has a size; a pty starts at 0x0, which makes renderers wrap at every character.
rows, cols = spec.get("size", [40, 120])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

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

csi = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b\][^\x07]*\x07|\x1b[()][AB012]|\x1b[78=>]")


def render(text, cols):
    """Replay the output on an endless screen `cols` wide: what a person sees after the run."""
    lines, row, col, pos = [[]], 0, 0, 0
    def put(ch):
        nonlocal row, col
        if col >= cols:
            row, col = row + 1, 0
        while len(lines) <= row:
            lines.append([])
        line = lines[row]
        line.extend(" " * (col - len(line) + 1) if len(line) <= col else "")
        line[col] = ch
        col += 1
    while pos < len(text):
        m = csi.match(text, pos)
        if m:
            pos = m.end()
            args, final = m.group(1), m.group(2)
            if final is None or (args or "").startswith("?"):
                continue
            n = [int(a) if a else 0 for a in (args or "").split(";")]
            k = n[0] or 1
            if final == "A":
                row = max(0, row - k)
            elif final == "B":
                row += k
            elif final == "C":
                col += k
            elif final == "D":
                col = max(0, col - k)
            elif final == "G":
                col = k - 1
            elif final in "KJ":
                while len(lines) <= row:
                    lines.append([])
                if n[0] == 0:
                    del lines[row][col:]
                elif n[0] == 1:
                    lines[row][: col + 1] = [" "] * min(col + 1, len(lines[row]))
                else:
                    lines[row] = []
                if final == "J" and n[0] in (0, 2):
                    del lines[row + 1 :]
            continue
        ch = text[pos]
        pos += 1
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row += 1
            while len(lines) <= row:
                lines.append([])
        elif ch == "\b":
            col = max(0, col - 1)
        elif ch >= " ":
            put(ch)
    return "\n".join("".join(l).rstrip() for l in lines).rstrip() + "\n"


seen = 0
screens = []
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
    read_some(0.05)
    screens.append(render(raw.decode("utf8", "replace"), cols))
    if isinstance(keys, dict):
        read_some(0.3)
        items = []
        for line in screen()[m.end():].split("\n")[1:]:
            if not line.strip() or line.lstrip().startswith(("↑", "(")):
                if items:
                    break
                continue
            items.append(line)
        cursor = next(i for i, l in enumerate(items) if l.lstrip().startswith("❯"))
        target = next((i for i, l in enumerate(items) if keys["choose"] in l), None)
        if target is None:
            print(json.dumps({"code": None, "output": screen(), "waiting_for": f"menu item {keys['choose']!r} in {items!r}"}))
            sys.exit(0)
        arrow = "\x1b[B" if target >= cursor else "\x1b[A"
        for _ in range(abs(target - cursor)):
            os.write(fd, arrow.encode())
            time.sleep(0.05)
        keys = "\r"
    os.write(fd, keys.encode())

while time.time() < deadline and read_some(0.2):
    pass
_, status = os.waitpid(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "output": screen(), "screen": render(raw.decode("utf8", "replace"), cols), "screens": screens}))
