// Runs once when the server starts: validate the configuration and start polling before the first request.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { startDashboard } = await import('./lib/app/start');
    await startDashboard();
    // Only now may server/server.mjs answer the status route itself: the runtime it reads exists.
    const { registerFastRoutes } = await import('./lib/app/fast-routes');
    registerFastRoutes();
    const { registerShutdown } = await import('./lib/app/shutdown');
    registerShutdown();
  }
}
