/**
 * The bytes of incomplete frames an endpoint holds for all its peers together, against one
 * limit: a peer announcing a large frame makes us keep what it sent until the frame is whole.
 */
export class PartialFrameBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Bytes held now, all peers together. */
  get held(): number {
    return this.used;
  }

  /** One peer's share, updated as its incomplete frame grows, and released when it completes or the peer goes. */
  account(): PartialFrameAccount {
    let mine = 0;
    return {
      hold: (bytes: number): boolean => {
        if (this.used - mine + bytes > this.limit) return false;
        this.used += bytes - mine;
        mine = bytes;
        return true;
      },
      release: (): void => {
        this.used -= mine;
        mine = 0;
      },
    };
  }
}

export interface PartialFrameAccount {
  /** Sets this peer's share to `bytes`; false (and the share unchanged) when all peers together would hold more than the limit. */
  hold(bytes: number): boolean;
  release(): void;
}
