// What a task's commands used: CPU time and peak memory from each command's rusage, which the
// spawn helper gets from wait4() as it reaps the command (its own use and that of the
// descendants it waited for, as `time` counts them). Commands started through Node (execa) are
// not measured: Node reaps its children without their rusage, and process.resourceUsage() is
// the engine's own, not a command's.

/** One command's rusage. */
export interface CommandUsage {
  userMs: number;
  systemMs: number;
  /** ru_maxrss: the peak resident memory of the command or of the largest descendant it waited for. */
  peakRssKb: number;
}

/** The sum over a task's commands: CPU added up, memory the largest peak. */
export class UsageTally {
  cpuMs = 0;
  peakRssKb = 0;
  #measured = 0;
  #unmeasured = 0;

  add(usage: CommandUsage | undefined): void {
    if (usage === undefined) {
      this.#unmeasured++;
      return;
    }
    this.#measured++;
    this.cpuMs += usage.userMs + usage.systemMs;
    this.peakRssKb = Math.max(this.peakRssKb, usage.peakRssKb);
  }

  /** The totals, when the task ran commands and every one of them was measured; a partial sum would mislead. */
  get totals(): { cpuMs: number; peakRssKb: number } | undefined {
    return this.#measured > 0 && this.#unmeasured === 0 ? { cpuMs: Math.round(this.cpuMs * 1000) / 1000, peakRssKb: this.peakRssKb } : undefined;
  }
}
