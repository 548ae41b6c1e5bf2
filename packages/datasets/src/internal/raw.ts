/** Decoded pixels and labels before the registry names them. */
export interface RawImages {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  shape: [number, number, number];
  /** Class names found in the source (image folders); absent for formats that carry none. */
  classNames?: string[];
}
