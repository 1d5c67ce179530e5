export { installControlPlane, InstallError, PACKAGES, type InstallOptions, type InstallResult } from './install.js';
export { startControlPlane, ControlPlaneError, type ControlPlane, type ControlPlaneOptions, type ApiServerControl } from './controlplane.js';
export { readInstalled, cacheLayout, SERVERS, type Stamp } from './paths.js';
export { renderKubeconfig, type KubeconfigSpec } from './kubeconfig.js';
