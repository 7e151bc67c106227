// Deny-by-default policies for web contents and the session: no navigation away from the app, no new
// windows, no permission (camera, notifications, geolocation, ...), no <webview>. Plain functions so
// main.ts only wires them and tests can call them.
import { isAppUrl } from './app-protocol.ts';

/** `will-navigate` / `will-redirect` / `will-frame-navigate`: cancel anything that is not the app itself. */
export function shouldBlockNavigation(url: string): boolean {
  return !isAppUrl(url);
}

/** `setWindowOpenHandler`: every window.open and target=_blank is denied. */
export function denyWindowOpen(): { action: 'deny' } {
  return { action: 'deny' };
}

/** `setPermissionRequestHandler`: every request is refused. */
export function denyPermissionRequest(_webContents: unknown, _permission: string, callback: (granted: boolean) => void): void {
  callback(false);
}

/** `setPermissionCheckHandler` and `setDevicePermissionHandler`: every check answers no. */
export function denyPermissionCheck(): boolean {
  return false;
}
