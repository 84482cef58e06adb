const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A Discord-shaped snowflake (17–19 digits), so ids look and sort like the real ones. */
export function snowflake(at = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | (1n << 17n) | increment).toString();
}
