import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { applyTheme, readThemeChoice } from './lib/theme';
import './styles.css';

// Before the first render (index.html loads this module render-blocking): no flash of the
// other theme.
applyTheme(readThemeChoice());

const root = document.getElementById('root');
if (!root) throw new Error('The page has no #root element.');

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
