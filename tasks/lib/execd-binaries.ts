// Where the execd task puts the two binaries, relative to the recipe's folder: chroot copies
// execd into the rootfs, smoke runs execc against the container.
export const execdBinary = 'build/execd';
export const execcBinary = 'build/execc';
