/** Does process `pid` live? Signal 0 asks the kernel without sending anything; EPERM means it lives as another user. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
