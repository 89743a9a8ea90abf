import { runAction } from '../index.js';

await runAction('drill-post');
