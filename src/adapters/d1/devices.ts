/** The device_tokens table: found by hash, inserted in the same transaction as their session. */
import type { DeviceRow, DeviceStore } from '../../ports'

/**
 * Lands only while the account's credential version is still the one the device is issued under,
 * as the session insert beside it does: no device outlives a password change it raced.
 */
export const insertDeviceStatement = (db: D1Database, device: DeviceRow): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO device_tokens (token_hash, user_id, credential_version, created_at, expires_at)
       SELECT ?1, ?2, ?3, ?4, ?5
        WHERE EXISTS (SELECT 1 FROM users WHERE id = ?2 AND credential_version = ?3)`
    )
    .bind(
      device.token_hash,
      device.user_id,
      device.credential_version,
      device.created_at,
      device.expires_at
    )

export const d1DeviceStore = (db: D1Database): DeviceStore => ({
  find: (tokenHash) =>
    db
      .prepare('SELECT * FROM device_tokens WHERE token_hash = ?1')
      .bind(tokenHash)
      .first<DeviceRow>(),
})
