/**
 * Lambda entry point for the batch handler. Placeholder so the infrastructure can bundle it at synth;
 * the real handler replaces this body.
 */
export const handler = async (_event: unknown): Promise<void> => {
  void _event;
};
