/**
 * The interceptor half of `kafka-log/nest`: runs once guards have let the request through, right before the
 * pipes and the controller method, so it knows the matched route and when the handler began; errors leaving the
 * handler (exceptions, pipe failures) mark the exchange as answered by Nest's exception filters.
 *
 * @module
 */

import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { type Observable, catchError, throwError } from 'rxjs';
import type { IncomingMessage } from 'node:http';
import { captureOf } from '../capture/capture.js';

/** The parts of platform-express's request the interceptor reads. */
interface RoutedRequest extends IncomingMessage {
  route?: { path?: unknown };
}

/**
 * Marks the handler start, records the route (`{ path }` of the Express route Nest registered: global prefix,
 * version and controller path included), and sets `source: "kong"` when the handler fails. Registered globally by
 * `KafkaLogModule`; requests that are not HTTP, or not being logged, pass through untouched.
 */
export class KafkaLogInterceptor implements NestInterceptor {
  /** Called by Nest for every handled request. */
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<RoutedRequest>();
    const capture = request === undefined ? undefined : captureOf(request);
    if (capture === undefined) return next.handle();
    capture.markHandlerStart();
    const path = request.route?.path;
    if (typeof path === 'string') capture.route = { path };
    return next.handle().pipe(
      catchError((error: unknown) => {
        capture.source = 'kong';
        return throwError(() => error);
      }),
    );
  }
}
