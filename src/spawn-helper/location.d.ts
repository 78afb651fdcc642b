export declare const sourcePath: string;
export declare const binaryPath: string;
