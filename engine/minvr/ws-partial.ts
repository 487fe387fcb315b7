/**
 * Follows the frame headers (RFC 6455) of the bytes a WebSocket peer sends, to know how many of
 * them the `ws` receiver is holding for a message not complete yet: the part of the current frame
 * received so far, plus the payloads of the earlier fragments of the same message.
 */
export class WebSocketPartialMeter {
  private header = Buffer.alloc(14);
  private headerFill = 0;
  /** Payload bytes of the current frame still to come, or -1 while its header is not complete. */
  private remaining = -1;
  private frameBytes = 0;
  private payloadLength = 0;
  private fin = false;
  private control = false;
  private fragments = 0;

  /** Bytes held for the incomplete message. */
  get pending(): number {
    return this.frameBytes + this.fragments;
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining < 0) {
        this.header[this.headerFill++] = chunk[offset++];
        this.frameBytes++;
        if (this.headerFill >= 2 && this.headerFill === this.headerLength()) this.startPayload();
      } else {
        const take = Math.min(this.remaining, chunk.length - offset);
        offset += take;
        this.remaining -= take;
        this.frameBytes += take;
      }
      if (this.remaining === 0) this.endFrame();
    }
  }

  private headerLength(): number {
    const length7 = this.header[1] & 0x7f;
    const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
    return 2 + extended + (this.header[1] & 0x80 ? 4 : 0);
  }

  private startPayload(): void {
    const length7 = this.header[1] & 0x7f;
    this.payloadLength = length7 === 126 ? this.header.readUInt16BE(2) : length7 === 127 ? Number(this.header.readBigUInt64BE(2)) : length7;
    this.fin = (this.header[0] & 0x80) !== 0;
    this.control = (this.header[0] & 0x08) !== 0;
    this.remaining = this.payloadLength;
  }

  private endFrame(): void {
    if (!this.control) this.fragments = this.fin ? 0 : this.fragments + this.payloadLength;
    this.headerFill = 0;
    this.remaining = -1;
    this.frameBytes = 0;
  }
}
