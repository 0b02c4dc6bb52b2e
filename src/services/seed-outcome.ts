export interface SeedCounts {
  created: number;
  updated: number;
  unchanged: number;
}

/** The data already in the deployment contradicts the file in a way seeding must not paper over. */
export class SeedConflict extends Error {
  constructor(message: string) {
    super(`nothing was loaded: ${message}`);
    this.name = 'SeedConflict';
  }
}
