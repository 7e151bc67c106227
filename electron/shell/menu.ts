// The application menu: the platform's usual roles (so copy/paste, zoom, full screen and window
// management work with their native shortcuts) and About with the version. Returned as plain template
// data for `Menu.buildFromTemplate`; this file never imports 'electron'.

/** The subset of Electron's MenuItemConstructorOptions used here. */
export interface MenuItemTemplate {
  label?: string;
  role?: string;
  type?: 'separator' | 'submenu' | 'normal';
  submenu?: MenuItemTemplate[];
  click?: () => void;
}

export interface MenuOptions {
  productName: string;
  version: string;
  platform: NodeJS.Platform;
  /** Packaged builds have no developer tools and no reload (a reload would drop unsaved work). */
  isPackaged: boolean;
}

/** The options for `app.setAboutPanelOptions`, shown by the About item's role. */
export function aboutPanelOptions(options: Pick<MenuOptions, 'productName' | 'version'>): {
  applicationName: string;
  applicationVersion: string;
  version: string;
  copyright: string;
} {
  return {
    applicationName: options.productName,
    applicationVersion: options.version,
    version: options.version,
    copyright: 'Apache-2.0',
  };
}

export function buildMenuTemplate(options: MenuOptions): MenuItemTemplate[] {
  const isMac = options.platform === 'darwin';
  const about: MenuItemTemplate = { role: 'about', label: `About ${options.productName} ${options.version}` };
  const separator: MenuItemTemplate = { type: 'separator' };

  const view: MenuItemTemplate[] = [
    ...(options.isPackaged ? [] : [{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, separator]),
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    separator,
    { role: 'togglefullscreen' },
  ];

  return [
    ...(isMac
      ? [
          {
            label: options.productName,
            submenu: [about, separator, { role: 'services' }, separator, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, separator, { role: 'quit' }],
          },
        ]
      : []),
    { label: 'File', submenu: [isMac ? { role: 'close' } : { role: 'quit' }] },
    { role: 'editMenu' },
    { label: 'View', submenu: view },
    { role: 'windowMenu' },
    ...(isMac ? [] : [{ label: 'Help', role: 'help', submenu: [about] }]),
  ];
}
