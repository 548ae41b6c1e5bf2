// Minimal typings of the part of pngjs that patchcert uses (the package ships none).
declare module 'pngjs' {
  export interface PNGWithMetadata {
    width: number;
    height: number;
    depth: number;
    color: boolean;
    alpha: boolean;
    palette: boolean;
    colorType: number;
    data: Buffer;
  }
  export interface PNGPackOptions {
    colorType?: number;
    inputColorType?: number;
    inputHasAlpha?: boolean;
    bitDepth?: number;
  }
  export const PNG: {
    sync: {
      read(buffer: Buffer | Uint8Array, options?: { skipRescale?: boolean }): PNGWithMetadata;
      write(png: { width: number; height: number; data: Buffer | Uint8Array }, options?: PNGPackOptions): Buffer;
    };
  };
}
