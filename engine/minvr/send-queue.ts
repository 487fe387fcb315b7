/**
 * The sizes of the events handed to a socket and not yet flushed, in order. It tells the event
 * being written apart from those queued behind it, so that one big event does not make a peer
 * that is reading look slow.
 */
export class SendQueue {
  private sizes: number[] = [];
  private head = 0;
  private total = 0;

  queued(size: number): void {
    this.sizes.push(size);
    this.total += size;
  }

  /** The oldest queued event was flushed (its write callback ran). */
  flushed(): void {
    if (this.head >= this.sizes.length) return;
    this.total -= this.sizes[this.head++];
    if (this.head === this.sizes.length) {
      this.sizes = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.sizes.length) {
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }

  /** Bytes of the events queued behind the one being written. */
  get behindCurrent(): number {
    return this.head < this.sizes.length ? this.total - this.sizes[this.head] : 0;
  }
}
