// The CLI reads the package version from the bottom layer (the gateway reports it too).
export { PACKAGE_VERSION } from "../core/version.ts";
