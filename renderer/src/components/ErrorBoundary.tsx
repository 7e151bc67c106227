// Never a blank screen: a render error shows what happened and a way back.
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  children: ReactNode;
  /** Changing it (e.g. the route) clears the error. */
  resetKey?: string;
}

interface State {
  error?: Error;
}

export class ErrorBoundary extends Component<Props, State> {
  override state: State = {};

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidUpdate(prev: Props): void {
    if (prev.resetKey !== this.props.resetKey && this.state.error) {
      this.setState({ error: undefined });
    }
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('Outpost view failed', error, info.componentStack);
  }

  override render(): ReactNode {
    if (this.state.error) {
      return (
        <div className="panel error-panel" role="alert">
          <h2>Something went wrong on this screen</h2>
          <p>{this.state.error.message || String(this.state.error)}</p>
          <p>
            <a href="#/patients" onClick={() => this.setState({ error: undefined })}>
              Back to patients
            </a>
          </p>
        </div>
      );
    }
    return this.props.children;
  }
}
