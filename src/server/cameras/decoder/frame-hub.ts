/**
 * One camera's decoded frames for any number of consumers (the detector, the live view): the latest frame
 * is kept for whoever asks, and every new one is handed to each subscriber. A consumer that throws does not
 * stop the others or the decoder.
 */
export interface Frame {
  cameraId: string;
  /** One JPEG image at the camera's inference size. */
  jpeg: Buffer;
  /** When the frame came out of the decoder (ms since the epoch). */
  at: number;
  /** Counts the camera's frames since its decoder started. */
  sequence: number;
  /** `camera`: the live stream; `placeholder`: the watermarked placeholder video. */
  origin: 'camera' | 'placeholder';
}

export type FrameConsumer = (frame: Frame) => void;

export class FrameHub {
  private readonly consumers = new Set<FrameConsumer>();
  private latestFrame: Frame | null = null;

  constructor(private readonly onConsumerError: (error: unknown) => void) {}

  get latest(): Frame | null {
    return this.latestFrame;
  }

  get subscriberCount(): number {
    return this.consumers.size;
  }

  /** Calls `consumer` with every new frame until the returned function is called. */
  subscribe(consumer: FrameConsumer): () => void {
    this.consumers.add(consumer);
    return () => this.consumers.delete(consumer);
  }

  publish(frame: Frame): void {
    this.latestFrame = frame;
    for (const consumer of this.consumers) {
      try {
        consumer(frame);
      } catch (error) {
        this.onConsumerError(error);
      }
    }
  }

  /** Forgets the latest frame (the stream stopped: an old picture must not pass for a live one). */
  clear(): void {
    this.latestFrame = null;
  }
}
