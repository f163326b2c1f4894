import type net from 'node:net';
import { Duplex } from 'node:stream';

/** What the embedded broker lets a connection send before and after its device key is accepted. */
export interface ConnectionLimits {
  /** Largest packet (fixed header included) of a connection whose key was accepted. */
  maxPacketBytes: number;
  /** Bytes a connection may send before its key is accepted: the CONNECT and whatever follows it before CONNACK. */
  bytesBeforeAccept: number;
  /** Connections whose key has not been accepted yet (no CONNECT so far, or its key being checked). */
  maxPendingConnections: number;
}

/** A packet broke the connection's limits (its size, announced before its body is read, or QoS 2 messages without PUBREL): the connection closes. */
export class PacketTooLarge extends Error {}

/**
 * QoS 2 messages a connection may have sent without their PUBREL. The broker keeps each until its PUBREL
 * comes, so a device that never sends one would otherwise fill the memory (Aedes 1.2 caps this at 1000
 * itself; the 2.0 beta does not yet).
 */
export const MAX_QOS2_AWAITING_RELEASE = 1000;
const PUBREL = 0x62;

/**
 * Reads the fixed header of every MQTT packet as the bytes go by (a type byte, then the remaining length
 * as a 1–4 byte varint) and objects as soon as a header announces a packet over the limit. Aedes' parser
 * (mqtt-packet) keeps a whole packet in memory before it parses it, so the size must be checked here,
 * before the body arrives: a client announcing 256 MB is refused after five bytes. It also counts the
 * QoS 2 messages awaiting their PUBREL (MAX_QOS2_AWAITING_RELEASE).
 */
export class PacketSizeGuard {
  /** Bytes of this connection already scanned, before the current chunk. */
  private scanned = 0;
  /** Bytes of the current packet's fixed header read so far; 0 while waiting for the next packet. */
  private headerBytes = 0;
  private remainingLength = 0;
  /** Bytes of the current packet's body still to come (they are passed on without being looked at). */
  private bodyLeft = 0;
  private accepted = false;
  /** The first byte of the current packet: its type and flags. */
  private typeByte = 0;
  private qos2AwaitingRelease = 0;

  constructor(private readonly limits: Pick<ConnectionLimits, 'maxPacketBytes' | 'bytesBeforeAccept'>) {}

  /** The device key was accepted: packets up to maxPacketBytes may follow. */
  accept(): void {
    this.accepted = true;
  }

  /** The next bytes of the connection; returns why the connection must close, if it must. */
  scan(chunk: Buffer): string | undefined {
    const problem = this.scanPackets(chunk);
    this.scanned += chunk.length;
    return problem;
  }

  private scanPackets(chunk: Buffer): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const skipped = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= skipped;
        i += skipped;
        continue;
      }
      const byte = chunk[i++]!;
      this.headerBytes++;
      if (this.headerBytes === 1) {
        this.typeByte = byte;
        this.remainingLength = 0;
        continue;
      }
      this.remainingLength += (byte & 0x7f) * 128 ** (this.headerBytes - 2);
      if (byte & 0x80) {
        if (this.headerBytes === 5) return 'malformed remaining length';
        continue;
      }
      const problem = this.check(this.headerBytes + this.remainingLength, this.scanned + i + this.remainingLength) ?? this.countQos2();
      if (problem) return problem;
      this.bodyLeft = this.remainingLength;
      this.headerBytes = 0;
    }
    return undefined;
  }

  private countQos2(): string | undefined {
    const isQos2Publish = this.typeByte >> 4 === 3 && ((this.typeByte >> 1) & 3) === 2;
    if (isQos2Publish) this.qos2AwaitingRelease++;
    else if (this.typeByte === PUBREL) this.qos2AwaitingRelease = Math.max(0, this.qos2AwaitingRelease - 1);
    return this.qos2AwaitingRelease > MAX_QOS2_AWAITING_RELEASE ? `more than ${MAX_QOS2_AWAITING_RELEASE} QoS 2 messages without PUBREL` : undefined;
  }

  /** `size`: the whole packet; `end`: where it ends counted from the connection's first byte. */
  private check(size: number, end: number): string | undefined {
    if (this.accepted) {
      return size > this.limits.maxPacketBytes ? `a ${size}-byte packet is over MQTT_MAX_PACKET_BYTES (${this.limits.maxPacketBytes})` : undefined;
    }
    return end > this.limits.bytesBeforeAccept
      ? `a ${size}-byte packet before the device key was accepted (at most ${this.limits.bytesBeforeAccept} bytes until CONNACK)`
      : undefined;
  }
}

/**
 * The socket as Aedes sees it: what it reads has passed the guard; what it writes, and closing, go
 * straight to the socket.
 */
class GuardedSocket extends Duplex {
  constructor(
    private readonly socket: net.Socket,
    guard: PacketSizeGuard,
  ) {
    super({ allowHalfOpen: false });
    socket.on('data', (chunk: Buffer) => {
      const problem = guard.scan(chunk);
      if (problem) return this.destroy(new PacketTooLarge(problem));
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.socket.write(chunk, encoding)) callback();
    else this.socket.once('drain', () => callback());
  }

  /**
   * What Aedes writes in one go (mqtt-packet corks its stream for a tick: a PUBACK per committed message)
   * leaves in one system call, as it would on the bare socket; one write each cost ~12 µs a message.
   */
  override _writev(chunks: { chunk: Buffer; encoding: BufferEncoding }[], callback: (error?: Error | null) => void): void {
    this.socket.cork();
    let flowing = true;
    for (const { chunk, encoding } of chunks) flowing = this.socket.write(chunk, encoding);
    this.socket.uncork();
    if (flowing) callback();
    else this.socket.once('drain', () => callback());
  }

  override _final(callback: () => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}

interface Guarded {
  guard: PacketSizeGuard;
  /** Leaves the pending count (once): on acceptance or when the socket closes. */
  settle: () => void;
}

/**
 * Puts a PacketSizeGuard between each socket and Aedes, and refuses new sockets while too many
 * connections are still pending (not yet accepted), so that idle or slow clients cannot hold memory
 * and sockets that devices need; Aedes' connect timeout drops those that never send a CONNECT.
 */
export class ConnectionGate {
  private pending = 0;
  private readonly connections = new WeakMap<object, Guarded>();

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly onRefused: (reason: string) => void,
  ) {}

  /** The stream Aedes reads and writes for a new socket, or undefined when the socket is refused (and closed). */
  open(socket: net.Socket): Duplex | undefined {
    if (this.pending >= this.limits.maxPendingConnections) {
      socket.destroy();
      this.onRefused(`MQTT_MAX_PENDING_CONNECTIONS (${this.limits.maxPendingConnections}) connections are waiting for their CONNECT to be accepted`);
      return undefined;
    }
    this.pending++;
    let waiting = true;
    const settle = () => {
      if (!waiting) return;
      waiting = false;
      this.pending--;
    };
    socket.once('close', settle);
    const guard = new PacketSizeGuard(this.limits);
    const conn = new GuardedSocket(socket, guard);
    this.connections.set(conn, { guard, settle });
    return conn;
  }

  /** The connection's device key was accepted: it is no longer pending and may send packets up to maxPacketBytes. */
  accept(conn: object): void {
    const guarded = this.connections.get(conn);
    guarded?.guard.accept();
    guarded?.settle();
  }
}
