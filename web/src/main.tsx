import './zod-csp.js';
import { render } from 'preact';
import { App } from './app.js';
import './style.css';

const root = document.getElementById('root');
if (root) {
  root.replaceChildren();
  render(<App />, root);
}
